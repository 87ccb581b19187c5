/**
 * A small model of how a threaded workload on one shared hakmem heap scales, fed by two measured
 * runs (usually 1 and 2 workers) and the heap's counters (docs/threads.md). It is the Universal
 * Scalability Law,
 *
 *   X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1)),
 *
 * with lambda the throughput of one worker, sigma the share of one worker's time spent holding the
 * heap's global locks (serialisation: lock acquisitions per op, from the pool counters, times the
 * time a critical section takes), and kappa, the cost of keeping shared cache lines coherent
 * between each pair of workers (remote frees, pending stacks, the pool's atomic counters), fitted to
 * the second run. Besides throughput it predicts the lock's utilisation (acquisitions per second x
 * critical section) and, from it, the wait of one acquisition as in a single-server queue.
 */
import type { StatName } from '../../alloc/layout';

/** What the model needs of one measured run. */
export interface MeasuredRun {
  threads: number;
  /** Total throughput, all workers. */
  opsPerSec: number;
  ops: number;
  /** The heap's merged counters after the run (HeapStats.counters). */
  counters: Record<StatName, number>;
}

/** Per-op rates of the shared work, read from the counters. */
export interface SharedWork {
  /**
   * Acquisitions of the pool lock, and of the arena lock below it, per op: every slot taken from or
   * given back to the pool goes through the pool lock (a stage-2 claim takes it first whenever the
   * thread has a SuperSlab hint), a new or returned SuperSlab through the arena lock too. The mid
   * tier's lock is not counted (no counter): the model is for tiny-block workloads.
   */
  lockPerOp: number;
  /**
   * Atomic read-modify-writes on lines other threads write, per op: one per remote free (the CAS onto the
   * slab's remote stack). The pending-stack push and the owner's drain come once per batch, not counted.
   */
  sharedRmwPerOp: number;
}

export interface ContentionModel {
  lambda: number;
  sigma: number;
  kappa: number;
  /** The critical-section time used for sigma, in ns. */
  criticalSectionNs: number;
  /** Shared work per op in the run kappa was fitted to (the model's N > 1 regime). */
  shared: SharedWork;
  /** True when the second run scaled better than sigma alone allows (kappa would be negative; it is 0). */
  superlinear: boolean;
}

export interface Prediction {
  threads: number;
  opsPerSec: number;
  /** opsPerSec / (threads * lambda): 1 is perfect scaling. */
  efficiency: number;
  /** Share of the time the pool lock is held (all workers together); at 1 or more it is saturated. */
  lockUtilisation: number;
  /** Expected wait of one acquisition in ns (M/M/1: cs * U / (1 - U)); Infinity when saturated. */
  lockWaitNs: number;
  /** Atomic RMWs per second on shared lines: the coherence traffic kappa stands for. */
  sharedRmwPerSec: number;
}

export function sharedWork(run: MeasuredRun): SharedWork {
  const c = run.counters;
  const pool = c.stage0_5_empty + c.stage1_lockfree + c.stage2_lockfree + c.stage3_new_superslab + c.slot_release + c.adopted_abandoned;
  const arena = c.stage3_new_superslab + c.superslab_completely_empty;
  return { lockPerOp: (pool + arena) / run.ops, sharedRmwPerOp: c.remote_free / run.ops };
}

/** Fits the model to a run with fewer workers (`base`, lambda and sigma) and one with more (`more`, kappa). */
export function fitContention(base: MeasuredRun, more: MeasuredRun, criticalSectionNs: number): ContentionModel {
  if (!(more.threads > base.threads && base.threads >= 1)) {
    throw new Error(`fitContention: needs a run with more workers than the base run (got ${base.threads} and ${more.threads})`);
  }
  if (!(base.opsPerSec > 0 && more.opsPerSec > 0 && criticalSectionNs >= 0)) {
    throw new Error('fitContention: throughputs must be positive and the critical section not negative');
  }
  // The base run's throughput per worker, extrapolated to one worker through the serial share.
  const baseShared = sharedWork(base);
  const perWorker = base.opsPerSec / base.threads;
  const sigma = (baseShared.lockPerOp * criticalSectionNs * perWorker) / 1e9;
  const lambda = perWorker * (1 + sigma * (base.threads - 1));
  // X(M) = lambda M / (1 + sigma (M - 1) + kappa M (M - 1))  =>  kappa.
  const m = more.threads;
  const kappa = ((lambda * m) / more.opsPerSec - 1 - sigma * (m - 1)) / (m * (m - 1));
  return { lambda, sigma, kappa: Math.max(0, kappa), criticalSectionNs, shared: sharedWork(more), superlinear: kappa < 0 };
}

export function predict(model: ContentionModel, threads: number): Prediction {
  const { lambda, sigma, kappa } = model;
  const n = threads;
  const opsPerSec = (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
  const u = (opsPerSec * model.shared.lockPerOp * model.criticalSectionNs) / 1e9;
  return {
    threads,
    opsPerSec,
    efficiency: opsPerSec / (n * lambda),
    lockUtilisation: u,
    lockWaitNs: u < 1 ? (model.criticalSectionNs * u) / (1 - u) : Infinity,
    sharedRmwPerSec: opsPerSec * model.shared.sharedRmwPerOp,
  };
}
