/**
 * A multi-threaded trace replayed on threads (WORKLOADS.md "Threaded replay"): one worker per recorded
 * thread (replay-worker.ts), all on one shared hakmem heap, each running its thread's ops in recorded
 * order and waiting only where the trace says a block crosses threads (replay-threads.ts). Passes as
 * the serial replay's: a footprint pass (whole blocks written), warm-up passes, `loops` timed passes;
 * each starts with every worker released at once, and its time runs from the first worker's start to
 * the last one's end.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createHeap } from '../../alloc/create-heap';
import { TIERS_PEAK_METHOD } from '../adapters/hakmem';
import type { HeapOptions } from '../../alloc/config';
import { requestBytes, type Trace } from '../../trace/trace';
import { workerExecArgv } from '../engines/engines';
import { collectGarbage } from '../measures/collect-garbage';
import type { Fingerprint } from '../workloads/random-mixed';
import { MAX_REQUEST, REPLAY_ID_WORDS, ReplayOutOfMemory, warmUpPassCount } from '../workloads/replay';
import type { ReplayFacts } from '../workloads/replay-facts';
import { planThreadedReplay } from '../workloads/replay-threads';
import {
  CONTROL_GENERATION,
  CONTROL_OPS_DONE,
  CONTROL_PASS,
  CONTROL_WORDS,
  PASS_FINISH,
  PASS_FOOTPRINT,
  PASS_SETTLE,
  PASS_TIMED,
  PASS_WARMUP,
  type ReplayThreadJob,
  type ReplayThreadMessage,
} from './replay-thread-protocol';

// By path, as run-threads.ts: in a notebook kernel no .ts loader is registered in this thread.
const WORKER = path.join(__dirname, 'replay-worker.ts');

/** One recorded thread's share of a threaded replay. */
export interface ReplayThreadFigures {
  /** Its recorded tag. */
  thread: number;
  /** Ops per pass. */
  ops: number;
  /** Its own op loops over the timed passes, waits included. */
  seconds: number;
  /** Frees and reallocs of blocks another thread made, per pass (from the trace). */
  crossThreadFrees: number;
  crossThreadReallocs: number;
  /** Ops that waited for another thread, in the last timed pass. */
  waits: number;
}

export interface ThreadedReplayRun {
  /** loops * trace length. */
  ops: number;
  /** The timed passes, each from the first thread's start to the last one's end. */
  seconds: number;
  /** Of the last timed pass: the threads' fingerprints, hashes summed (replay-facts.ts sumThreadHashes). */
  fingerprint: Fingerprint;
  threads: ReplayThreadFigures[];
  /** Frees hakmem routed to another thread's remote queue in the last timed pass (its remote counter). */
  remoteFrees: number;
  peakFootprintBytes: number;
  footprintMethod: string;
  /** The second reading: the tiers' peak in the footprint pass. */
  footprintByStats: { bytes: number; method: string };
  /** The untimed passes before the timed ones. */
  warmupPasses: number;
  /** The heap's preset, build and alignment as resolved. */
  heap: { preset: string; build: string; align: number; configHash: string };
}

export const THREADED_FOOTPRINT_METHOD =
  "hakmem heap's resident bytes after the footprint pass (heap.stats().residentBytes): its pages ever written, 4 KiB " +
  'units, counted in the shared buffer by every thread, so exact for the threads together';

/** Replays `trace` on one worker per recorded thread; a request the heap cannot serve throws ReplayOutOfMemory. */
export async function replayOnThreads(heapOptions: HeapOptions, trace: Trace, facts: ReplayFacts, loops: number): Promise<ThreadedReplayRun> {
  // As newReplayState does for the serial replay, here: a worker's start-up error would lose the class.
  for (let i = 0; i < trace.length; i++) {
    if (requestBytes(trace, i) > MAX_REQUEST) throw new ReplayOutOfMemory(i, trace.id[i], requestBytes(trace, i));
  }
  const plan = planThreadedReplay(trace, facts);
  const heap = createHeap({ ...heapOptions, shared: true });
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const ctl = new Int32Array(control);
  const blocks = new SharedArrayBuffer(4 * Math.max(1, plan.slots));
  const idWords = new SharedArrayBuffer(4 * REPLAY_ID_WORDS * Math.max(1, plan.slots));
  const seq = new SharedArrayBuffer(4 * Math.max(1, plan.slots));
  const workers = plan.threads.map((p) => {
    const job: ReplayThreadJob = { handle: heap.handle(), control, workers: plan.threads.length, plan: p, blocks, idWords, seq };
    return new Worker(WORKER, { workerData: job, execArgv: workerExecArgv() });
  });
  const inbox = new Inbox(workers);
  try {
    await inbox.all('ready');
    const passes = async (kind: number) => {
      new Int32Array(seq).fill(0);
      Atomics.store(ctl, CONTROL_OPS_DONE, 0);
      Atomics.store(ctl, CONTROL_PASS, kind);
      Atomics.add(ctl, CONTROL_GENERATION, 1);
      Atomics.notify(ctl, CONTROL_GENERATION);
      return (await inbox.all('pass')) as Extract<ReplayThreadMessage, { type: 'pass' }>[];
    };
    await passes(PASS_FOOTPRINT);
    const { residentBytes: peakFootprintBytes, peakHeapBytes: tiersPeak } = heap.stats();
    // As many warm-up passes as a serial replay's (replay.ts warmUpPassCount), the first in short calls,
    // the others run as the timed ones are (their times unused): each worker's isolate compiles its own
    // code, and with one such pass the first two timed passes of python3-threaded-pipeline took 21-33 ms
    // and the later ones 14-19 (4 runs); with three, 16-30 and 13-27 (6 runs, on two cores). The last
    // settles (PASS_SETTLE): one full collection in each worker before the timed passes, not one a pass.
    const warmupPasses = loops > 0 ? warmUpPassCount(trace.length) : 0;
    if (warmupPasses > 0) await passes(PASS_WARMUP);
    for (let k = 1; k < warmupPasses; k++) await passes(k === warmupPasses - 1 ? PASS_SETTLE : PASS_TIMED);
    collectGarbage();
    let seconds = 0;
    const own = new Float64Array(workers.length);
    let last: Extract<ReplayThreadMessage, { type: 'pass' }>[] = [];
    for (let l = 0; l < loops; l++) {
      last = await passes(PASS_TIMED);
      seconds += (Math.max(...last.map((m) => m.end)) - Math.min(...last.map((m) => m.start))) / 1e9;
      last.forEach((m, k) => (own[k] += (m.end - m.start) / 1e9));
    }
    Atomics.store(ctl, CONTROL_PASS, PASS_FINISH);
    Atomics.add(ctl, CONTROL_GENERATION, 1);
    Atomics.notify(ctl, CONTROL_GENERATION);
    await inbox.all('detached');
    heap.trim();
    heap.check();
    const fingerprint: Fingerprint = { mallocs: 0, frees: 0, bytes: 0, hash: 0 };
    for (const m of last) {
      fingerprint.mallocs += m.fingerprint.mallocs;
      fingerprint.frees += m.fingerprint.frees;
      fingerprint.bytes += m.fingerprint.bytes;
      fingerprint.hash = (fingerprint.hash + m.fingerprint.hash) >>> 0;
    }
    const s = heap.stats();
    return {
      ops: loops * trace.length,
      seconds,
      fingerprint,
      threads: plan.threads.map((p, k) => ({
        thread: p.tag,
        ops: p.trace.length,
        seconds: own[k],
        crossThreadFrees: p.crossThreadFrees,
        crossThreadReallocs: p.crossThreadReallocs,
        waits: last[k]?.waits ?? 0,
      })),
      remoteFrees: last.reduce((n, m) => n + m.remoteFrees, 0),
      peakFootprintBytes,
      footprintMethod: THREADED_FOOTPRINT_METHOD,
      footprintByStats: { bytes: tiersPeak, method: TIERS_PEAK_METHOD },
      warmupPasses,
      heap: { preset: s.preset, build: s.build, align: s.align, configHash: s.configHash },
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The workers' messages, awaited one kind at a time from all of them, in worker order. A worker's
 * failure (its 'failed' message, an error, an exit before it detached) rejects the wait at once: the
 * others may be blocked on a slot the failed one never publishes.
 */
class Inbox {
  private readonly queues: ReplayThreadMessage[][];
  private readonly detached: boolean[];
  private wake: () => void = () => {};
  private failure: Error | null = null;

  constructor(workers: Worker[]) {
    this.queues = workers.map(() => []);
    this.detached = workers.map(() => false);
    workers.forEach((w, k) => {
      w.on('message', (m: ReplayThreadMessage) => {
        if (m.type === 'failed') this.fail(new Error(m.message));
        else if (m.type === 'out-of-memory') this.fail(new ReplayOutOfMemory(m.op, m.blockId, m.bytes));
        else this.queues[k].push(m);
        if (m.type === 'detached') this.detached[k] = true;
        this.wake();
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (!this.detached[k]) this.fail(new Error(`the replay worker of recorded thread index ${k} exited with code ${code}`));
      });
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  async all(type: ReplayThreadMessage['type']): Promise<ReplayThreadMessage[]> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.queues.every((q) => q.length > 0)) {
        const got = this.queues.map((q) => q.shift() as ReplayThreadMessage);
        const wrong = got.find((m) => m.type !== type);
        if (wrong) throw new Error(`replay worker sent '${wrong.type}' where '${type}' was due`);
        return got;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
