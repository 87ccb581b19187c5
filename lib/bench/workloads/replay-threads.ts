/**
 * A multi-threaded trace split for threaded replay (WORKLOADS.md "replay", "Threaded replay"): one
 * plan per recorded thread, its ops in recorded order, with the cross-thread dependencies made
 * explicit. Computed once from the trace, before any pass, by walking it as bookkeeping.
 *
 * Blocks are named by lifetime (a slot per allocation op, kept by its reallocs, ended by its free)
 * instead of by the trace's IDs: a recorder hands a freed ID out again to whichever thread allocates
 * next, and a dependency on the ID's previous block would order two threads the program never
 * ordered. Per slot, its ops are numbered 0 (the allocation), 1, ...; an op whose slot's previous op
 * ran on another thread waits until the slot's sequence (shared memory) reaches its number, and that
 * previous op publishes the number when it is done. Each wait points to an op earlier in recorded
 * order, so the waits cannot deadlock.
 */
import { blankTrace, OP_FREE, OP_REALLOC, type Trace } from '../../trace/trace';
import { ReplayError, type ReplayFacts } from './replay-facts';

/** The most threads a threaded replay runs (one worker or pthread each); more replay with --serial. */
export const MAX_REPLAY_THREADS = 64;

export interface ThreadPlan {
  /** The recorded thread's tag. */
  tag: number;
  /** Its ops as a trace of their own, every ID a slot. */
  trace: Trace;
  /** Per op: its index in the recorded trace, and its recorded ID (for messages). */
  opIndex: Int32Array;
  recordedId: Uint32Array;
  /** Per op: the sequence its slot must reach before it runs; -1: no wait (the slot's last op ran here). */
  waitFor: Int32Array;
  /** Per op: the sequence its slot gets when it is done; -1: none (its next op runs here, or none). */
  publish: Int32Array;
  /** The slots this thread's ops leave live at the trace's end (it frees them after the pass). */
  leftover: Int32Array;
  /** Frees and reallocs of a block whose current address another thread made (its malloc or realloc). */
  crossThreadFrees: number;
  crossThreadReallocs: number;
}

export interface ThreadedReplayPlan {
  threads: ThreadPlan[];
  /** Slots: the trace's allocation ops (m, c, a). */
  slots: number;
}

/** The trace split by thread; the trace must have passed replayFacts (every f and r names a live ID). */
export function planThreadedReplay(t: Trace, facts: ReplayFacts): ThreadedReplayPlan {
  const indexOfTag = new Int32Array(1 << 16).fill(-1);
  const tags: number[] = [];
  const lengths: number[] = [];
  let slots = 0;
  for (let i = 0; i < t.length; i++) {
    const tag = t.thread[i];
    if (indexOfTag[tag] < 0) {
      if (tags.length === MAX_REPLAY_THREADS) {
        throw new Error(`the trace has more than ${MAX_REPLAY_THREADS} threads: threaded replay runs at most that many (replay it with --serial)`);
      }
      indexOfTag[tag] = tags.length;
      tags.push(tag);
      lengths.push(0);
    }
    lengths[indexOfTag[tag]]++;
    if (t.kind[i] !== OP_FREE && t.kind[i] !== OP_REALLOC) slots++;
  }
  const plans: ThreadPlan[] = tags.map((tag, k) => newPlan(tag, lengths[k]));
  const filled = new Int32Array(tags.length);

  const slotOfId = new Int32Array(facts.maxId + 1).fill(-1);
  const nextSeq = new Int32Array(slots); // the number of the slot's next op
  const lastThread = new Int32Array(slots); // the thread of the slot's last op
  const lastAt = new Int32Array(slots); // that op's place in its thread's plan
  let slot = 0;
  for (let i = 0; i < t.length; i++) {
    const k = indexOfTag[t.thread[i]];
    const plan = plans[k];
    const j = filled[k]++;
    const kind = t.kind[i];
    let s: number;
    if (kind === OP_FREE || kind === OP_REALLOC) {
      s = slotOfId[t.id[i]];
      if (s < 0) throw new ReplayError(i, t.id[i], `${kind === OP_FREE ? 'f' : 'r'} of an ID that holds no block (on thread ${t.thread[i]})`);
      if (lastThread[s] !== k) {
        const previous = plans[lastThread[s]];
        previous.publish[lastAt[s]] = nextSeq[s];
        plan.waitFor[j] = nextSeq[s];
        if (kind === OP_FREE) plan.crossThreadFrees++;
        else plan.crossThreadReallocs++;
      }
      if (kind === OP_FREE) slotOfId[t.id[i]] = -1;
    } else {
      s = slot++;
      slotOfId[t.id[i]] = s;
      nextSeq[s] = 0;
    }
    nextSeq[s]++;
    lastThread[s] = k;
    lastAt[s] = j;
    plan.opIndex[j] = i;
    plan.recordedId[j] = t.id[i];
    (plan.trace.kind as Uint8Array)[j] = kind;
    (plan.trace.id as Uint32Array)[j] = s;
    (plan.trace.size as Float64Array)[j] = t.size[i];
    (plan.trace.aux as Float64Array)[j] = t.aux[i];
    (plan.trace.thread as Uint16Array)[j] = t.thread[i];
  }
  const leftovers: number[][] = plans.map(() => []);
  for (let id = 0; id <= facts.maxId; id++) {
    const s = slotOfId[id];
    if (s >= 0) leftovers[lastThread[s]].push(s);
  }
  leftovers.forEach((l, k) => (plans[k].leftover = Int32Array.from(l)));
  return { threads: plans, slots };
}

function newPlan(tag: number, n: number): ThreadPlan {
  return {
    tag,
    trace: blankTrace(n),
    opIndex: new Int32Array(n),
    recordedId: new Uint32Array(n),
    waitFor: new Int32Array(n).fill(-1),
    publish: new Int32Array(n).fill(-1),
    leftover: new Int32Array(0),
    crossThreadFrees: 0,
    crossThreadReallocs: 0,
  };
}

/**
 * Where a thread's op loop breaks off: before each op that waits and after each op that publishes,
 * and every `chunk` ops. Returns the ends of the runs in order (the last is the plan's length).
 */
export function runEnds(plan: Pick<ThreadPlan, 'waitFor' | 'publish'>, chunk: number): Int32Array {
  const n = plan.waitFor.length;
  const ends: number[] = [];
  let from = 0;
  for (let j = 0; j < n; j++) {
    if (j > from && (plan.waitFor[j] >= 0 || j - from === chunk)) {
      ends.push(j);
      from = j;
    }
    if (plan.publish[j] >= 0) {
      ends.push(j + 1);
      from = j + 1;
    }
  }
  if (from < n || n === 0) ends.push(n);
  return Int32Array.from(ends);
}

/**
 * In a slot's sequence word: a waiter sleeps (Atomics.wait), so the publisher must wake them. A slot
 * can have several: the threads of its next ops, each waiting for its own number.
 */
const WAITING = 1 << 30;
/** Loads of a slot's sequence before its waiter sleeps: short, as the machine may have fewer cores than threads. */
const SPINS = 64;

/** Blocks until `seq[slot]` reaches `want`; returns whether it had to. */
export function waitForSlot(seq: Int32Array, slot: number, want: number): boolean {
  let v = Atomics.load(seq, slot);
  if ((v & ~WAITING) >= want) return false;
  for (let spin = 0; spin < SPINS; spin++) {
    v = Atomics.load(seq, slot);
    if ((v & ~WAITING) >= want) return true;
  }
  for (;;) {
    v = Atomics.load(seq, slot);
    if ((v & ~WAITING) >= want) return true;
    // The publisher's exchange clears the flag and wakes every waiter, each of which checks again and sets
    // it again if it still waits; a value changed since the load fails the exchange here: no wake-up is missed.
    if (Atomics.compareExchange(seq, slot, v, v | WAITING) === v) Atomics.wait(seq, slot, v | WAITING);
  }
}

/** Sets `seq[slot]` to `value`, waking its waiters if any sleeps. */
export function publishSlot(seq: Int32Array, slot: number, value: number): void {
  if (Atomics.exchange(seq, slot, value) & WAITING) Atomics.notify(seq, slot);
}
