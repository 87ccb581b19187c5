/**
 * Measures what the contention model (contention-model.ts) is fed: a threaded workload on one shared
 * hakmem heap at two worker counts (alternating, `reps` times each, in this process's workers), its
 * counters, and the time one pool critical section takes on one thread.
 */
import { createHeap } from '../../alloc/create-heap';
import { STAT_NAMES, type StatName } from '../../alloc/layout';
import { acquireSlot, releaseSlot } from '../../alloc/shared-pool';
import { formatSlab } from '../../alloc/superslab';
import type { CrossThreadArgs, LarsonArgs } from '../cli-args';
import { median } from '../matrix/statistics';
import type { MeasuredRun } from './contention-model';
import { crossThreadThreads, larsonThreads, type ThreadedResult } from './run-threads';

export type ContentionWorkload = { bench: 'larson'; args: LarsonArgs } | { bench: 'cross-thread'; args: CrossThreadArgs };

/**
 * One run at `threads` workers. cross-thread at one worker is its no-sharing baseline: the worker's
 * ring leads back to itself, so its frees are local.
 */
function runOnce(w: ContentionWorkload, threads: number): Promise<ThreadedResult> {
  return w.bench === 'larson'
    ? larsonThreads({}, { ...w.args, threads, generations: Infinity })
    : crossThreadThreads({}, { ...w.args, threads });
}

/** Runs at `counts[0]` and `counts[1]` workers, alternating; median throughput, counters over all reps. */
export async function measureRuns(w: ContentionWorkload, counts: readonly [number, number], reps: number): Promise<[MeasuredRun, MeasuredRun]> {
  const acc = counts.map(() => ({ rates: [] as number[], ops: 0, counters: Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as Record<StatName, number> }));
  for (let rep = 0; rep < reps; rep++) {
    for (let k = 0; k < counts.length; k++) {
      const r = await runOnce(w, counts[k]);
      acc[k].rates.push(r.ops / r.seconds);
      acc[k].ops += r.ops;
      for (const n of STAT_NAMES) acc[k].counters[n] += r.stats.counters[n];
    }
  }
  const run = (k: number): MeasuredRun => ({ threads: counts[k], opsPerSec: median(acc[k].rates), ops: acc[k].ops, counters: acc[k].counters });
  return [run(0), run(1)];
}

/**
 * The time of one pool critical section with its lock and unlock, in ns: a slot taken from the pool
 * (stage 0.5) and given back, on one thread of a shared heap, halved. No other thread: no waiting.
 */
export function measureCriticalSectionNs(pairs = 200_000): number {
  const heap = createHeap({ shared: true, bytes: 16 << 20 });
  const m = heap.mem;
  const cycle = () => {
    const page = acquireSlot(m, heap, 0);
    formatSlab(m, page, 0, heap.blockSize[0], heap.tid);
    releaseSlot(m, heap, page, false);
  };
  for (let k = 0; k < 10_000; k++) cycle(); // warm-up: optimised code, the slot list in place
  const start = process.hrtime.bigint();
  for (let k = 0; k < pairs; k++) cycle();
  const ns = Number(process.hrtime.bigint() - start) / pairs / 2;
  heap.detach();
  return ns;
}
