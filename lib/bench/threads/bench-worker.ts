/**
 * A benchmark thread: attaches to the shared heap, waits at the start barrier, runs its copy of
 * random-mixed, its larson chain or its place in cross-thread's ring, and reports its fingerprint.
 * A larson generation hand-off is a new thread identity: detach (caches flushed, slabs orphaned) and attach afresh in the same worker,
 * because starting a Worker costs milliseconds where larson's pthread costs microseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '../../alloc/create-heap';
import { HakmemAllocator } from '../adapters/hakmem';
import { crossThreadRings, crossThreadWarmupCycles, crossThreadWorker, ringOf } from '../workloads/cross-thread';
import { chainFingerprint, larsonWorkerWarmUp, newChainTotals, runGeneration } from '../workloads/larson';
import { Lran2 } from '../workloads/lran2';
import { randomMixedLoop, warmUpRandomMixed } from '../workloads/random-mixed';
import { CONTROL_START, type CrossThreadJob, type LarsonJob, type RandomMixedJob, type WorkerJob, type WorkerMessage } from './protocol';

const job = workerData as WorkerJob;
const control = new Int32Array(job.control);
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

function waitForStart(): void {
  post({ type: 'ready' });
  Atomics.wait(control, CONTROL_START, 0);
}

function runRandomMixed(j: RandomMixedJob): void {
  const heap = attachHeap(j.handle);
  const a = new HakmemAllocator(heap);
  const seed = (j.seed + j.index) >>> 0;
  // Warm up before the barrier so every copy starts its measured loop optimised.
  warmUpRandomMixed(a, j.cycles, j.ws, seed, j.min, j.max);
  waitForStart();
  const r = randomMixedLoop(a, j.cycles, j.ws, seed, j.min, j.max);
  heap.detach();
  post({ type: 'done', ...r.fingerprint, generations: 1 });
}

function runLarson(j: LarsonJob): void {
  const slots = new Int32Array(j.slots, j.index * j.chunks * 4, j.chunks);
  const rng = new Lran2(j.chainSeed);
  const acc = newChainTotals();
  const warm = attachHeap(j.handle);
  larsonWorkerWarmUp(new HakmemAllocator(warm), { ...j, seed: j.chainSeed, threads: 1 });
  warm.detach();
  waitForStart();
  const deadline = performance.now() + j.seconds * 1000;
  let generations = 0;
  let stopped = false;
  while (!stopped && generations < j.generations) {
    const heap = attachHeap(j.handle);
    stopped = runGeneration(new HakmemAllocator(heap), slots, rng, j.chunks, j.rounds, j.min, j.max - j.min, acc, deadline);
    heap.detach();
    generations++;
  }
  post({ type: 'done', ...chainFingerprint(acc), generations });
}

function runCrossThread(j: CrossThreadJob): void {
  const heap = attachHeap(j.handle);
  const out = ringOf(j.rings, j.index, j.ws);
  const inbound = ringOf(j.rings, (j.index + j.threads - 1) % j.threads, j.ws);
  // Warm-up on a ring of its own (its frees local), so the measured loop starts optimised.
  const own = ringOf(crossThreadRings(1, j.ws), 0, j.ws);
  crossThreadWorker(new HakmemAllocator(heap), own, own, j.index, { ...j, cycles: crossThreadWarmupCycles(j.cycles) });
  waitForStart();
  const f = crossThreadWorker(new HakmemAllocator(heap), out, inbound, j.index, j);
  heap.detach();
  post({ type: 'done', ...f, generations: 1 });
}

if (job.kind === 'larson') runLarson(job);
else if (job.kind === 'cross-thread') runCrossThread(job);
else runRandomMixed(job);
