/** Messages between the threaded benchmarks' main thread and their workers. */
import type { HeapHandle } from '../../alloc/heap';
import type { CrossThreadParams } from '../workloads/cross-thread';

/** Control words in a shared Int32Array: the start barrier and larson's stop flag. */
export const CONTROL_START = 0;
export const CONTROL_WORDS = 1;

/** Slots of a larson worker's warm-up chain (bench-worker.ts): few, so the heap needs little room for them. */
export const LARSON_WARMUP_SLOTS = 256;

interface JobBase {
  handle: HeapHandle;
  control: SharedArrayBuffer;
  /** Which copy (random-mixed), chain (larson) or ring position (cross-thread) this worker runs. */
  index: number;
}

export interface RandomMixedJob extends JobBase {
  kind: 'random-mixed';
  cycles: number;
  ws: number;
  seed: number;
  min: number;
  max: number;
}

export interface LarsonJob extends JobBase {
  kind: 'larson';
  /** Every chain's slots, chain t at t * chunks. */
  slots: SharedArrayBuffer;
  chainSeed: number;
  min: number;
  max: number;
  chunks: number;
  rounds: number;
  /** Stop after this many generations, or after `seconds`. */
  generations: number;
  seconds: number;
}

export interface CrossThreadJob extends JobBase, CrossThreadParams {
  kind: 'cross-thread';
  /** Every ring (lib/bench/workloads/cross-thread.ts): this worker sends on ring `index`, receives on the one before. */
  rings: SharedArrayBuffer;
}

/** A registered workload's threaded run (lib/bench/workloads/workload.ts, ThreadedRun): the worker finds it by name. */
export interface WorkloadJob extends JobBase {
  kind: 'workload';
  name: string;
  args: Record<string, number>;
  threads: number;
  shared: SharedArrayBuffer | null;
}

export type WorkerJob = RandomMixedJob | LarsonJob | CrossThreadJob | WorkloadJob;

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; mallocs: number; frees: number; bytes: number; hash: number; generations: number };
