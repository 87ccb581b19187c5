/** Messages between a threaded replay's main thread (replay-threads-run.ts) and its workers (replay-worker.ts). */
import type { HeapHandle } from '../../alloc/heap';
import type { Fingerprint } from '../workloads/random-mixed';
import type { ThreadPlan } from '../workloads/replay-threads';

/**
 * Control words: a generation the main thread bumps to start a pass, the pass's kind, and how many
 * workers have done the pass's ops (each frees its leftovers once all have).
 */
export const CONTROL_GENERATION = 0;
export const CONTROL_PASS = 1;
export const CONTROL_OPS_DONE = 2;
export const CONTROL_WORDS = 3;

export const PASS_FOOTPRINT = 0;
export const PASS_WARMUP = 1;
export const PASS_TIMED = 2;
/** Not a pass: detach from the heap and exit. */
export const PASS_FINISH = 3;
/** The last warm-up pass: run as a timed pass is, then a full garbage collection (replay.ts warmUpPasses says why). */
export const PASS_SETTLE = 4;

export interface ReplayThreadJob {
  handle: HeapHandle;
  control: SharedArrayBuffer;
  /** Workers in the replay (CONTROL_OPS_DONE counts up to it). */
  workers: number;
  plan: ThreadPlan;
  /** Shared per slot: the block (Int32), the replayer's two words (REPLAY_ID_WORDS), the sequence. */
  blocks: SharedArrayBuffer;
  idWords: SharedArrayBuffer;
  seq: SharedArrayBuffer;
}

export type ReplayThreadMessage =
  | { type: 'ready' }
  | {
      type: 'pass';
      /** process.hrtime.bigint() at the loop's start and end, as numbers (one clock for every thread). */
      start: number;
      end: number;
      fingerprint: Fingerprint;
      /** Frees the heap routed as remote in this pass (the thread's own counter's growth). */
      remoteFrees: number;
      /** Ops that found their slot's previous op not yet done and waited. */
      waits: number;
    }
  | { type: 'failed'; message: string }
  /** A request the shared heap could not serve: a result (the run is skipped), named by its recorded op. */
  | { type: 'out-of-memory'; op: number; blockId: number; bytes: number }
  | { type: 'detached' };
