/**
 * A registered workload's threaded run (lib/bench/workloads/workload.ts, ThreadedRun): one worker
 * thread per thread on one shared hakmem heap, released together; the clock runs from the start
 * barrier until the last worker reports, and the run's fingerprint is the workers' summed.
 */
import { createHeap } from '../../alloc/create-heap';
import type { HeapOptions } from '../../alloc/config';
import type { ThreadedRun, Workload } from '../workloads/workload';
import { CONTROL_WORDS, type WorkerJob } from './protocol';
import { finish, runWorkers, type ThreadedResult } from './run-threads';

export async function runWorkloadThreads(
  w: Workload,
  heapOptions: HeapOptions,
  args: Record<string, number>,
  threads: number,
): Promise<ThreadedResult> {
  const run = w.ts as ThreadedRun<Record<string, number>>;
  const heap = createHeap({ ...heapOptions, shared: true, bytes: run.heapBytes(args) });
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const shared = run.shared?.(args) ?? null;
  const jobs: WorkerJob[] = Array.from({ length: threads }, (_, index) => ({
    kind: 'workload', name: w.name, handle: heap.handle(), control, index, args, threads, shared,
  }));
  const r = await runWorkers(jobs, control);
  return finish(heap, { ...r, ops: run.ops(args, r.fingerprint) }, threads);
}
