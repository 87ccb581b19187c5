/**
 * The replay's oracle run (WORKLOADS.md "replay"): the blocks an allocator gave in its last warm-up
 * pass, handed back through the same replay loop, in a worker of its own (oracle-worker.ts). A worker
 * has an isolate of its own, so the loop there is compiled for the oracle alone and the loop here for
 * the allocator alone: in one isolate both would see two receivers at every call site. The worker runs
 * one timed pass when asked, so the allocator's passes and the oracle's alternate, as the C replayer's
 * do: machine noise that lasts longer than a pass falls on both.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Trace } from '../../trace/trace';
import type { BlockMemory, ReplayAllocator } from '../adapters/allocator-adapter';
import type { Offsets } from '../adapters/oracle';
import { workerExecArgv } from '../engines/engines';
import type { Fingerprint } from '../workloads/random-mixed';
import { addPass, fingerprintOf, newPassTimes, timedPass, warmUpPasses, type ReplayState, type TimedPasses } from '../workloads/replay';
import type { ReplayFacts } from '../workloads/replay-facts';

/**
 * What oracle-worker.ts is given (for offsets, the blocks of the allocator's last warm-up pass); it
 * runs the footprint and warm-up passes, answers `ready`, then runs a timed pass per `pass`.
 */
export interface OracleJob {
  trace: Pick<Trace, 'length' | 'kind' | 'id' | 'size' | 'aux' | 'thread'>;
  facts: ReplayFacts;
  shape: { pointers: 'offsets'; memoryBytes: number; recorded: Offsets } | { pointers: 'objects' };
}

/** What the main thread asks the oracle's worker: one timed pass, or the passes' fingerprint (the last request). */
export type OracleRequest = 'pass' | 'finish';

/** What the worker answers, in order: ready once warmed up, each pass's seconds, the fingerprint. */
export type OracleReply = { ready: true } | { seconds: number } | { fingerprint: Fingerprint };

export type OracleOutcome = { seconds: number; bestPassSeconds: number | null; ops: number; fingerprint: Fingerprint } | { error: string };

export const ORACLE_METHOD =
  "the oracle: the same loop handing back the blocks this allocator gave in its last warm-up pass (the blocks the timed passes find), doing no allocator work (calloc's zeroing and realloc's copying count to the allocator)";

/** The most bytes the objects oracle makes (one Uint8Array per allocation op of a pass): past it, none. */
export const ORACLE_OBJECT_BYTES = 2 ** 30;

// By path, as run-threads.ts: in a notebook kernel no .ts loader is registered in this thread.
const WORKER = path.join(__dirname, 'oracle-worker.ts');

/**
 * The allocator's warm-up passes, then `loops` timed passes, each followed by one of the oracle's, and
 * the oracle's outcome: its seconds, or why it has none. `recorded`: for allocators with offset
 * pointers, room for a pass's blocks, where the last warm-up pass records its own (recordingPass) for
 * the oracle. The oracle's worker starts then, with the allocator's memory as large as it has grown,
 * and runs its own footprint and warm-up passes before the first timed pass. `guard` runs each of
 * the allocator's passes (the caller's error hints); an oracle that fails leaves the allocator's
 * passes to run on.
 */
export async function passesWithOracle<P>(
  a: ReplayAllocator<P>,
  trace: Trace,
  st: ReplayState<P>,
  facts: ReplayFacts,
  loops: number,
  recorded: Offsets | null,
  guard: <T>(run: () => T) => T,
): Promise<{ timed: TimedPasses; oracle: OracleOutcome }> {
  // The worker while it answers; once it fails, null and why.
  let worker: OracleWorker | null = null;
  let why = '';
  const fail = (e: Error) => {
    why = e.message;
    worker?.stop();
    worker = null;
  };
  const times = newPassTimes();
  const oracleTimes = newPassTimes();
  let warmupPasses = 0;
  try {
    // `recorded` comes with offset pointers only, whose P is number.
    const record = (recorded ?? undefined) as unknown as { [k: number]: P } | undefined;
    warmupPasses = guard(() => warmUpPasses(a, trace, st, undefined, record));
    const started = startOracle(trace, facts, a.memory, recorded);
    if ('error' in started) why = started.error;
    else worker = started;
    await worker?.ready().catch(fail);
    for (let l = 0; l < loops; l++) {
      addPass(times, guard(() => timedPass(a, trace, st)));
      if (worker) addPass(oracleTimes, await worker.pass().catch((e: Error) => (fail(e), 0)));
    }
  } catch (e) {
    // A pass that throws (out of memory, a failed check) ends the run; the worker, left running,
    // would keep the process alive.
    worker?.stop();
    throw e;
  }
  const ops = loops * trace.length;
  const timed: TimedPasses = { ops, ...times, fingerprint: fingerprintOf(st), warmupPasses };
  const fingerprint = worker ? await worker.finish().catch(fail) : undefined;
  return { timed, oracle: fingerprint ? { ...oracleTimes, ops, fingerprint } : { error: why } };
}

/** The oracle's worker, started: it answers each call in turn, or rejects with why it cannot. */
interface OracleWorker {
  ready(): Promise<null>;
  pass(): Promise<number>;
  finish(): Promise<Fingerprint>;
  stop(): void;
}

function startOracle(trace: Trace, facts: ReplayFacts, memory: BlockMemory, recorded: Offsets | null): OracleWorker | { error: string } {
  const objectBytes = facts.fingerprint.bytes + facts.fingerprint.mallocs; // an upper bound: 0-byte requests make 1
  if (memory.pointers === 'objects' && objectBytes > ORACLE_OBJECT_BYTES) {
    return { error: `the oracle would make ${objectBytes} bytes of blocks (one per allocation op), over its ${ORACLE_OBJECT_BYTES}` };
  }
  const job: OracleJob = {
    trace: { length: trace.length, kind: trace.kind, id: trace.id, size: trace.size, aux: trace.aux, thread: trace.thread },
    facts,
    shape:
      memory.pointers === 'offsets'
        ? { pointers: 'offsets', memoryBytes: memory.bytes().length, recorded: recorded as Offsets }
        : { pointers: 'objects' },
  };
  const worker = new Worker(WORKER, { workerData: job, execArgv: workerExecArgv() });
  const next = replies(worker);
  const ask = (request: OracleRequest) => {
    worker.postMessage(request);
    return next();
  };
  return {
    ready: () => next().then((m) => expect(m, 'ready', () => null)),
    pass: () => ask('pass').then((m) => expect(m, 'seconds', (r) => r.seconds)),
    finish: () => ask('finish').then((m) => expect(m, 'fingerprint', (r) => r.fingerprint)),
    stop: () => void worker.terminate(),
  };
}

/** The worker's replies in order; once it fails or exits, every later one rejects with why. */
function replies(worker: Worker): () => Promise<OracleReply> {
  const queued: OracleReply[] = [];
  const waiting: { resolve: (m: OracleReply) => void; reject: (e: Error) => void }[] = [];
  let failure: string | null = null;
  worker.on('message', (m: OracleReply) => {
    const w = waiting.shift();
    if (w) w.resolve(m);
    else queued.push(m);
  });
  const fail = (why: string) => {
    failure ??= why;
    for (const w of waiting.splice(0)) w.reject(new Error(failure));
  };
  worker.once('error', (e) => fail(e.message));
  worker.once('exit', (code) => fail(`the oracle's worker exited with code ${code} before its answer`));
  return () => {
    const m = queued.shift();
    if (m) return Promise.resolve(m);
    if (failure !== null) return Promise.reject(new Error(failure));
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

/** The reply's `key` field through `take`; a reply of another kind is a protocol error. */
function expect<K extends 'ready' | 'seconds' | 'fingerprint', T>(m: OracleReply, key: K, take: (r: Extract<OracleReply, Record<K, unknown>>) => T): T {
  if (!(key in m)) throw new Error(`the oracle's worker answered ${JSON.stringify(m)} where ${key} was due`);
  return take(m as Extract<OracleReply, Record<K, unknown>>);
}
