/**
 * Multi-threaded benchmarks on one shared hakmem heap: random-mixed with independent per-thread
 * working sets, larson with its remote frees and thread hand-offs, and cross-thread, where every
 * free is remote (lib/bench/workloads/WORKLOADS.md).
 * Workers start before the clock; the clock runs from the start barrier until the last report.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createHeap } from '../../alloc/create-heap';
import type { HeapOptions } from '../../alloc/config';
import type { Heap } from '../../alloc/heap';
import type { HeapStats } from '../../alloc/stats';
import { HakmemAllocator } from '../adapters/hakmem';
import { crossThreadRings, type CrossThreadParams } from '../workloads/cross-thread';
import { warmUp, type LarsonWorkload } from '../workloads/larson';
import { Lran2 } from '../workloads/lran2';
import type { Fingerprint, LoopResult } from '../workloads/random-mixed';
import { workerExecArgv } from '../engines/engines';
import { CONTROL_START, CONTROL_WORDS, LARSON_WARMUP_SLOTS, type WorkerJob, type WorkerMessage } from './protocol';

export interface ThreadedResult extends LoopResult {
  threads: number;
  /** The heap's stats after the run, every thread's counters merged. */
  stats: HeapStats;
}

// By path, not require.resolve: in a notebook kernel no .ts loader is registered in this thread.
const WORKER = path.join(__dirname, 'bench-worker.ts');

/** Room for `blocks` blocks of up to `maxSize` bytes per thread, with slack for caches. */
function heapBytes(blocks: number, maxSize: number): number {
  const want = 64 * 2 ** 20 + blocks * (maxSize + 64) * 2;
  return Math.min(2 ** 31 - 2 ** 16, Math.ceil(want / 2 ** 21) * 2 ** 21);
}

export async function randomMixedThreads(
  heapOptions: HeapOptions,
  p: { cycles: number; ws: number; seed: number; min: number; max: number; threads: number },
): Promise<ThreadedResult> {
  const heap = createHeap({ ...heapOptions, shared: true, bytes: heapBytes(p.ws * p.threads, p.max) });
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const jobs: WorkerJob[] = Array.from({ length: p.threads }, (_, index) => ({
    kind: 'random-mixed', handle: heap.handle(), control, index, ...p,
  }));
  const r = await runWorkers(jobs, control);
  return finish(heap, { ...r, ops: p.cycles * p.threads }, p.threads);
}

export async function larsonThreads(
  heapOptions: HeapOptions,
  p: LarsonWorkload & { seconds: number; generations: number },
): Promise<ThreadedResult> {
  const n = p.threads * p.chunks;
  const heap = createHeap({ ...heapOptions, shared: true, bytes: heapBytes(n + p.threads * LARSON_WARMUP_SLOTS, p.max) });
  // The main thread allocates every block (larson's warm-up): the workers' first frees are remote.
  const g = new Lran2(p.seed);
  const blocks = warmUp(new HakmemAllocator(heap), n, p.min, p.max - p.min, g);
  const slots = new SharedArrayBuffer(n * 4);
  new Int32Array(slots).set(blocks);
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const jobs: WorkerJob[] = Array.from({ length: p.threads }, (_, index) => ({
    kind: 'larson', handle: heap.handle(), control, index, slots, chainSeed: g.next(),
    min: p.min, max: p.max, chunks: p.chunks, rounds: p.rounds, generations: p.generations, seconds: p.seconds,
  }));
  const r = await runWorkers(jobs, control);
  for (const b of new Int32Array(slots)) heap.free(b);
  return finish(heap, { ...r, ops: r.fingerprint.mallocs }, p.threads);
}

export async function crossThreadThreads(heapOptions: HeapOptions, p: CrossThreadParams): Promise<ThreadedResult> {
  // In flight at most: every ring full, plus the block each worker holds while its ring is full.
  const heap = createHeap({ ...heapOptions, shared: true, bytes: heapBytes(p.threads * (p.ws + 1), p.max) });
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const rings = crossThreadRings(p.threads, p.ws);
  const jobs: WorkerJob[] = Array.from({ length: p.threads }, (_, index) => ({
    kind: 'cross-thread', handle: heap.handle(), control, index, rings, ...p,
  }));
  const r = await runWorkers(jobs, control);
  return finish(heap, { ...r, ops: p.cycles * p.threads }, p.threads);
}

export function finish(heap: Heap, r: Omit<LoopResult, 'ops'> & { ops: number }, threads: number): ThreadedResult {
  heap.trim();
  heap.check();
  return { ...r, threads, stats: heap.stats() };
}

/** Starts one worker per job, releases them together, and sums their fingerprints. */
export async function runWorkers(jobs: WorkerJob[], control: SharedArrayBuffer): Promise<Omit<LoopResult, 'ops'>> {
  const ctl = new Int32Array(control);
  const sum: Fingerprint = { mallocs: 0, frees: 0, bytes: 0, hash: 0 };
  let ready = 0;
  let done = 0;
  let start = 0n;
  const workers = jobs.map((job) => new Worker(WORKER, { workerData: job, execArgv: workerExecArgv() }));
  try {
    const end = await new Promise<bigint>((resolve, reject) => {
      for (const w of workers) {
        w.on('error', reject);
        w.on('exit', (code) => { if (code !== 0) reject(new Error(`benchmark worker exited with code ${code}`)); });
        w.on('message', (m: WorkerMessage) => {
          if (m.type === 'ready' && ++ready === jobs.length) {
            start = process.hrtime.bigint();
            Atomics.store(ctl, CONTROL_START, 1);
            Atomics.notify(ctl, CONTROL_START);
          } else if (m.type === 'done') {
            sum.mallocs += m.mallocs;
            sum.frees += m.frees;
            sum.bytes += m.bytes;
            sum.hash = (sum.hash + m.hash) >>> 0;
            if (++done === jobs.length) resolve(process.hrtime.bigint());
          }
        });
      }
    });
    return { seconds: Number(end - start) / 1e9, fingerprint: sum };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
