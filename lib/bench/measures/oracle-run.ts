/**
 * The replay's oracle run (WORKLOADS.md "replay"): the blocks an allocator gave in its footprint pass,
 * handed back through the same replay loop, in a worker of its own (oracle-worker.ts). A worker has
 * an isolate of its own, so the loop there is compiled for the oracle alone and the loop here for the
 * allocator alone: in one isolate both would see two receivers at every call site.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Trace } from '../../trace/trace';
import type { BlockMemory } from '../adapters/allocator-adapter';
import type { Offsets } from '../adapters/oracle';
import { workerExecArgv } from '../engines/engines';
import type { Fingerprint } from '../workloads/random-mixed';
import type { ReplayFacts } from '../workloads/replay-facts';

/** What oracle-worker.ts is given. */
export interface OracleJob {
  trace: Pick<Trace, 'length' | 'kind' | 'id' | 'size' | 'aux' | 'thread'>;
  facts: ReplayFacts;
  loops: number;
  shape: { pointers: 'offsets'; memoryBytes: number; recorded: Offsets } | { pointers: 'objects' };
}

export type OracleOutcome = { seconds: number; ops: number; fingerprint: Fingerprint } | { error: string };

export const ORACLE_METHOD =
  'the oracle: the same loop handing back the blocks this allocator gave in its footprint pass, doing no allocator work';

/** The most bytes the objects oracle makes (one Uint8Array per allocation op of a pass): past it, none. */
export const ORACLE_OBJECT_BYTES = 2 ** 30;

// By path, as run-threads.ts: in a notebook kernel no .ts loader is registered in this thread.
const WORKER = path.join(__dirname, 'oracle-worker.ts');

/**
 * The oracle's timed passes (a warm-up pass, then `loops`), or why it cannot run. `recorded`: the
 * footprint pass's blocks, for allocators with offset pointers.
 */
export function runOracle(
  trace: Trace,
  facts: ReplayFacts,
  loops: number,
  memory: BlockMemory,
  recorded: Offsets | null,
): Promise<OracleOutcome> {
  const objectBytes = facts.fingerprint.bytes + facts.fingerprint.mallocs; // an upper bound: 0-byte requests make 1
  if (memory.pointers === 'objects' && objectBytes > ORACLE_OBJECT_BYTES) {
    return Promise.resolve({
      error: `the oracle would make ${objectBytes} bytes of blocks (one per allocation op), over its ${ORACLE_OBJECT_BYTES}`,
    });
  }
  const job: OracleJob = {
    trace: { length: trace.length, kind: trace.kind, id: trace.id, size: trace.size, aux: trace.aux, thread: trace.thread },
    facts,
    loops,
    shape:
      memory.pointers === 'offsets'
        ? { pointers: 'offsets', memoryBytes: memory.bytes().length, recorded: recorded as Offsets }
        : { pointers: 'objects' },
  };
  return new Promise((resolve) => {
    const worker = new Worker(WORKER, { workerData: job, execArgv: workerExecArgv() });
    let outcome: OracleOutcome | null = null;
    worker.once('message', (m: OracleOutcome) => (outcome = m));
    worker.once('error', (e) => (outcome = { error: e.message }));
    worker.once('exit', (code) => resolve(outcome ?? { error: `the oracle's worker exited with code ${code} and no result` }));
  });
}
