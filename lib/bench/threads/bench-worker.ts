/**
 * A benchmark thread: attaches to the shared heap, waits at the start barrier, runs its copy of
 * random-mixed, its larson chain or its place in cross-thread's ring, and reports its fingerprint.
 * A larson generation hand-off is a new thread identity: detach (caches flushed, slabs orphaned) and attach afresh in the same worker,
 * because starting a Worker costs milliseconds where larson's pthread costs microseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '../../alloc/create-heap';
import type { Slots } from '../adapters/allocator-adapter';
import { HakmemAllocator } from '../adapters/hakmem';
import { crossThreadRings, crossThreadWarmupCycles, crossThreadWorker, ringOf } from '../workloads/cross-thread';
import { chainFingerprint, newChainTotals, runGeneration, warmUp } from '../workloads/larson';
import { Lran2 } from '../workloads/lran2';
import { randomMixedLoop, warmUpRandomMixed } from '../workloads/random-mixed';
import { workloadNamed } from '../workloads/registry';
import type { ThreadedRun } from '../workloads/workload';
import {
  CONTROL_START,
  LARSON_WARMUP_SLOTS,
  type CrossThreadJob,
  type LarsonJob,
  type RandomMixedJob,
  type WorkerJob,
  type WorkerMessage,
  type WorkloadJob,
} from './protocol';

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
  warmUpLarson(j);
  waitForStart();
  const generations = runChain(j, slots, rng, acc, j.generations, performance.now() + j.seconds * 1000);
  post({ type: 'done', ...chainFingerprint(acc), generations });
}

/** Generations of a chain, each on a new thread identity, until `generations` ran or the deadline passed; returns how many ran. */
function runChain(j: LarsonJob, slots: Slots<number>, rng: Lran2, acc: Float64Array, generations: number, deadline: number): number {
  let n = 0;
  let stopped = false;
  while (!stopped && n < generations) {
    const heap = attachHeap(j.handle);
    stopped = runGeneration(new HakmemAllocator(heap), slots, rng, slots.length, j.rounds, j.min, j.max - j.min, acc, deadline);
    heap.detach();
    n++;
  }
  return n;
}

/**
 * Untimed, before the start: a chain of its own (LARSON_WARMUP_SLOTS slots, allocated by one identity,
 * then three generations with their hand-offs), freed again. Without it the loop and the allocator
 * calls in it would be compiled from the first round of the first generation, where most frees are
 * remote; with it they are compiled from the same mix of local and remote frees as the timed
 * generations, and compiled whole, as the random-mixed and cross-thread workers are.
 */
function warmUpLarson(j: LarsonJob): void {
  const rng = new Lran2(j.chainSeed);
  const owner = attachHeap(j.handle);
  const slots = warmUp(new HakmemAllocator(owner), Math.min(j.chunks, LARSON_WARMUP_SLOTS), j.min, j.max - j.min, rng);
  owner.detach();
  runChain(j, slots, rng, newChainTotals(), 3, Infinity);
  const last = attachHeap(j.handle);
  for (let s = 0; s < slots.length; s++) last.free(slots[s]);
  last.detach();
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

/** A registered workload's worker: its warm-up, the barrier (ctx.start) and its measured part. */
function runWorkload(j: WorkloadJob): void {
  let heap = attachHeap(j.handle);
  const run = workloadNamed(j.name).ts as ThreadedRun<Record<string, number>>;
  const renew = () => {
    heap.detach();
    heap = attachHeap(j.handle);
    return new HakmemAllocator(heap);
  };
  const f = run.worker({ allocator: new HakmemAllocator(heap), index: j.index, threads: j.threads, args: j.args, shared: j.shared, start: waitForStart, renew });
  heap.detach();
  post({ type: 'done', ...f, generations: 1 });
}

if (job.kind === 'larson') runLarson(job);
else if (job.kind === 'cross-thread') runCrossThread(job);
else if (job.kind === 'workload') runWorkload(job);
else runRandomMixed(job);
