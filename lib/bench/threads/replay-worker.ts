/**
 * One recorded thread of a threaded replay (WORKLOADS.md "Threaded replay"): attached to the shared
 * heap, it runs its plan's ops in recorded order through the serial replay's loop (replayOps), broken
 * off only where an op waits for another thread or another thread waits for it, over per-slot tables
 * every worker shares. Each pass starts when the main thread bumps the control generation.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '../../alloc/create-heap';
import { OP_FREE } from '../../trace/trace';
import { HakmemAllocator } from '../adapters/hakmem';
import { collectGarbage } from '../measures/collect-garbage';
import {
  beginPass,
  CHUNK_OPS,
  fingerprintOf,
  freeLeftover,
  madeBytes,
  newReplayState,
  ReplayOutOfMemory,
  replayOps,
  tagOf,
  WARMUP_CHUNK_OPS,
} from '../workloads/replay';
import { ReplayError } from '../workloads/replay-facts';
import { publishSlot, runEnds, waitForSlot } from '../workloads/replay-threads';
import {
  CONTROL_GENERATION,
  CONTROL_OPS_DONE,
  CONTROL_PASS,
  PASS_FINISH,
  PASS_FOOTPRINT,
  PASS_SETTLE,
  PASS_TIMED,
  type ReplayThreadJob,
  type ReplayThreadMessage,
} from './replay-thread-protocol';

const job = workerData as ReplayThreadJob;
const { plan } = job;
const t = plan.trace;
const control = new Int32Array(job.control);
const seq = new Int32Array(job.seq);
const heap = attachHeap(job.handle);
const a = new HakmemAllocator(heap);
const st = newReplayState(a, t, { maxId: 0 }, { blocks: new Int32Array(job.blocks), idWords: new Int32Array(job.idWords) });
const post = (m: ReplayThreadMessage) => parentPort!.postMessage(m);

/** Ops `from` to `to` (one run: at most its first op waits, its last publishes); returns whether it waited. */
function run(from: number, to: number, fill: boolean): boolean {
  const waited = plan.waitFor[from] >= 0 && waitForSlot(seq, t.id[from], plan.waitFor[from]);
  replayOps(a, t, st, from, to);
  if (fill && t.kind[from] !== OP_FREE) a.fill(st.blocks[t.id[from]], madeBytes(st, t.id[from]), tagOf(st, t.id[from]));
  if (plan.publish[to - 1] >= 0) publishSlot(seq, t.id[to - 1], plan.publish[to - 1]);
  return waited;
}

/**
 * Returns once every worker has done this pass's ops. Freed as soon as its own ops ended, a thread's
 * leftovers (blocks the trace never frees) went while another thread still made blocks, and the peak
 * fell below the trace's live peak (xz -T2: 98 MB resident for 144 MB live, in the C replayer).
 */
function allOpsDone(): void {
  if (Atomics.add(control, CONTROL_OPS_DONE, 1) + 1 === job.workers) {
    Atomics.notify(control, CONTROL_OPS_DONE);
    return;
  }
  for (let done = Atomics.load(control, CONTROL_OPS_DONE); done < job.workers; done = Atomics.load(control, CONTROL_OPS_DONE)) {
    Atomics.wait(control, CONTROL_OPS_DONE, done);
  }
}

function pass(kind: number): ReplayThreadMessage {
  const ends = kind === PASS_FOOTPRINT ? runEnds(plan, 1) : kind === PASS_TIMED || kind === PASS_SETTLE ? timedEnds : warmupEnds;
  const fill = kind === PASS_FOOTPRINT; // whole blocks written, as the serial footprint pass
  const remoteBefore = heap.stats().routes.remote;
  let waits = 0;
  beginPass(st);
  const start = process.hrtime.bigint();
  let from = 0;
  for (let k = 0; k < ends.length; k++) {
    if (ends[k] > from && run(from, ends[k], fill)) waits++;
    from = ends[k];
  }
  const end = process.hrtime.bigint();
  const fingerprint = fingerprintOf(st);
  allOpsDone();
  for (let k = 0; k < plan.leftover.length; k++) freeLeftover(a, st, plan.leftover[k], t.length);
  if (kind === PASS_SETTLE) collectGarbage();
  return {
    type: 'pass',
    start: Number(start),
    end: Number(end),
    fingerprint,
    remoteFrees: heap.stats().routes.remote - remoteBefore,
    waits,
  };
}

/** The error with the recorded op and ID in place of this plan's. */
function failure(e: unknown): ReplayThreadMessage {
  const where = (j: number) => `op ${plan.opIndex[j]} (ID ${plan.recordedId[j]}, thread ${plan.tag})`;
  if (e instanceof ReplayOutOfMemory) return { type: 'out-of-memory', op: plan.opIndex[e.op], blockId: plan.recordedId[e.op], bytes: e.bytes };
  if (e instanceof ReplayError) return { type: 'failed', message: `${where(e.op)}: ${e.message.slice(e.message.indexOf(': ') + 2)}` };
  return { type: 'failed', message: `thread ${plan.tag}: ${(e as Error).message ?? e}` };
}

const timedEnds = runEnds(plan, CHUNK_OPS);
const warmupEnds = runEnds(plan, WARMUP_CHUNK_OPS);
let generation = 0;
post({ type: 'ready' });
for (;;) {
  Atomics.wait(control, CONTROL_GENERATION, generation);
  generation = Atomics.load(control, CONTROL_GENERATION);
  const kind = Atomics.load(control, CONTROL_PASS);
  if (kind === PASS_FINISH) break;
  try {
    post(pass(kind));
  } catch (e) {
    post(failure(e));
    break;
  }
}
heap.detach();
post({ type: 'detached' });
