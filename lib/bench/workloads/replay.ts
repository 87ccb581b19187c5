/**
 * Trace replay (lib/bench/workloads/WORKLOADS.md "replay") on a TypeScript allocator, in passes
 * that each start with no block live: a footprint pass (whole blocks written, footprint and the
 * optional timeline sampled, the blocks recorded for the oracle), untimed warm-up passes, `loops`
 * timed passes, and with latency `loops` more passes with every op timed. Scripts/native/replay.c
 * does the same in C.
 */
import type { Histogram } from 'hdr-histogram-js';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, requestBytes, type Trace } from '../../trace/trace';
import type { BlockMemory, ReplayAllocator, Slots } from '../adapters/allocator-adapter';
import type { HakmemShape } from '../adapters/hakmem';
import { collectGarbage } from '../measures/collect-garbage';
import {
  CLOCK,
  LATENCY_OPS,
  newLatencyHistogram,
  now,
  opLatency,
  recordLatency,
  timerCostNs,
  type LatencyReport,
} from '../measures/latency';
import type { TimelineSample } from '../measures/timeline';
import type { Fingerprint } from './random-mixed';
import { fingerprintStep, ReplayError, sumThreadHashes, type ReplayFacts } from './replay-facts';

/** The allocator had no memory for a request: a result (the run is reported as not done), not a bug. */
export class ReplayOutOfMemory extends Error {
  constructor(
    readonly op: number,
    readonly blockId: number,
    readonly bytes: number,
  ) {
    super(`out of memory at op ${op} (ID ${blockId}, ${bytes} bytes)`); // as the C replayer says it
  }
}

/**
 * Runs passes after the footprint pass: an out-of-memory there says so, as the trace's peak fitted in
 * the footprint pass and what failed is memory the heap kept from pass to pass.
 */
export function afterFootprintPass<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof ReplayOutOfMemory) e.message += ' in a pass after the footprint pass, which fitted: the heap kept more memory from pass to pass';
    throw e;
  }
}

export interface ReplayOptions {
  loops: number;
  /** Sample the footprint pass every this many ops. */
  timeline?: number;
  latency?: boolean;
  /** hakmem: its heap's SuperSlabs and slabs at each timeline sample. */
  shape?: () => HakmemShape;
}

/**
 * Timed passes' seconds: their sum, and the fastest (null before the first), the steadier reading on a
 * machine whose speed changes between passes.
 */
export interface PassTimes {
  seconds: number;
  bestPassSeconds: number | null;
}

export function newPassTimes(): PassTimes {
  return { seconds: 0, bestPassSeconds: null };
}

/** Counts one timed pass of `seconds`. */
export function addPass(times: PassTimes, seconds: number): void {
  times.seconds += seconds;
  times.bestPassSeconds = Math.min(seconds, times.bestPassSeconds ?? seconds);
}

export interface TimedPasses extends PassTimes {
  /** loops * trace length. */
  ops: number;
  /** Of the last pass. */
  fingerprint: Fingerprint;
  /** The untimed passes before (warmUpPasses). */
  warmupPasses: number;
}

export interface ReplayRun extends ReplayFootprint, TimedPasses {
  latency: LatencyReport | null;
}

/**
 * The replayer's own arrays, packed so the loop reads few typed arrays (each one it reads costs a map
 * and bounds check after every call into the allocator): per op its kind and thread, its ID and the
 * bytes it asks for (N * SIZE for calloc); per block ID the block, and the bytes it was made for (at
 * least 1) with its tag (the byte in its first and last byte) and origin. And the pass's fingerprint
 * so far: the hash per recorded thread (replay-facts.ts sumThreadHashes), the current thread's in
 * `hash`.
 */
export interface ReplayState<P> {
  /** OP_WORDS per op: kind | thread << THREAD_SHIFT (the thread's index in `hashes`), ID, requested bytes. */
  readonly ops: Int32Array;
  readonly blocks: Slots<P>;
  /** ID_WORDS per ID: bytes made (>= 1), tag | FROM_ALIGNED. */
  readonly idWords: Int32Array;
  /** The hash of each recorded thread so far, by index in order of first op; the current one's is `hash`. */
  readonly hashes: Int32Array;
  /** The index of the thread whose hash `hash` holds. */
  thread: number;
  mallocs: number;
  frees: number;
  bytes: number;
  hash: number;
  /** Set during the footprint pass: the loops write whole blocks and record them (footprintPass). */
  footprint: FootprintWrites<P> | null;
}

/**
 * What the footprint pass asks of the loops beyond a timed pass: each block made written whole (its
 * pages count), and with `record` its block put there in order of allocation (the oracle's blocks).
 */
interface FootprintWrites<P> {
  readonly record: { [k: number]: P } | null;
  recorded: number;
}

const OP_WORDS = 3;
/** In an op's first word: the kind in the low bits, the thread's index above. */
const THREAD_SHIFT = 3;
const KIND_MASK = (1 << THREAD_SHIFT) - 1;
const ID_WORDS = 2;
/** In an ID's second word: the block came from alignedAlloc. */
const FROM_ALIGNED = 256;
/** The largest block the TypeScript replayer asks for: its sizes are int32 (no TypeScript allocator serves 2 GiB). */
export const MAX_REQUEST = 2 ** 31 - 1;

// As random-mixed: short calls while V8 warms the loop up (no on-stack compiled code), long ones timed.
export const CHUNK_OPS = 1 << 14;
export const WARMUP_CHUNK_OPS = 128;

/** Every pass in one go, on one allocator (no oracle: that runs in a worker of its own, replay-runner.ts). */
export function replayTrace<P>(a: ReplayAllocator<P>, t: Trace, facts: ReplayFacts, options: ReplayOptions): ReplayRun {
  const st = newReplayState(a, t, facts);
  const footprint = footprintPass(a, t, st, options);
  const timed = timedPasses(a, t, st, options.loops);
  const latency = options.latency ? latencyPasses(a, t, st, options.loops) : null;
  return { ...timed, ...footprint, latency };
}

export interface ReplayFootprint {
  /** The footprint pass's peak, null where the allocator has no footprint. */
  peakFootprintBytes: number | null;
  /** How the footprint was measured, or why there is none. */
  footprintMethod: string;
  timeline: TimelineSample[] | null;
}

/** The footprint pass alone, on a fresh allocator (random-mixed's timeline). */
export function replayFootprint<P>(
  a: ReplayAllocator<P>,
  t: Trace,
  facts: ReplayFacts,
  options: Pick<ReplayOptions, 'timeline' | 'shape'>,
): ReplayFootprint {
  return footprintPass(a, t, newReplayState(a, t, facts), options);
}

/**
 * The state for replaying `t`; a request beyond MAX_REQUEST is out of memory at its op, before any
 * pass. `tables`: the per-ID arrays to use instead of new ones (threaded replay shares them between
 * its workers; idWords of ID_WORDS per ID).
 */
export function newReplayState<P>(
  a: ReplayAllocator<P>,
  t: Trace,
  facts: Pick<ReplayFacts, 'maxId'>,
  tables?: { blocks: Slots<P>; idWords: Int32Array },
): ReplayState<P> {
  const ops = new Int32Array(OP_WORDS * t.length);
  const threadIndex = new Int32Array(1 << 16).fill(-1);
  let threads = 0;
  for (let i = 0; i < t.length; i++) {
    const n = requestBytes(t, i);
    if (n > MAX_REQUEST) throw new ReplayOutOfMemory(i, t.id[i], n);
    if (threadIndex[t.thread[i]] < 0) threadIndex[t.thread[i]] = threads++;
    ops[OP_WORDS * i] = t.kind[i] | (threadIndex[t.thread[i]] << THREAD_SHIFT);
    ops[OP_WORDS * i + 1] = t.id[i];
    ops[OP_WORDS * i + 2] = n;
  }
  return {
    ops,
    blocks: tables?.blocks ?? a.newSlots(facts.maxId + 1),
    idWords: tables?.idWords ?? new Int32Array(ID_WORDS * (facts.maxId + 1)),
    hashes: new Int32Array(Math.max(1, threads)),
    thread: 0,
    mallocs: 0,
    frees: 0,
    bytes: 0,
    hash: 0,
    footprint: null,
  };
}

/** Int32 words per ID in ReplayState.idWords. */
export const REPLAY_ID_WORDS = ID_WORDS;

/** The bytes the block of `id` was made for (at least 1). */
export function madeBytes<P>(st: ReplayState<P>, id: number): number {
  return st.idWords[ID_WORDS * id];
}

/**
 * Ops `from` to `to` of the trace on the allocator, with the first/last-byte checks; a 0-byte request
 * is made for 1 byte. One loop per kind of pointer (BlockMemory), each over the state's packed arrays
 * read into locals, the fingerprint kept in locals: beyond the allocator's calls an op costs a few
 * typed-array loads and stores, as in C's loop.
 */
export function replayOps<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, from: number, to: number): void {
  if (a.memory.pointers === 'offsets') offsetOps(a as unknown as ReplayAllocator<number>, t, st as unknown as ReplayState<number>, from, to);
  else objectOps(a, t, st, from, to);
}

// The op kinds as locals of the loops: imported bindings are property loads from the module's exports.
const FREE = OP_FREE;
const MALLOC = OP_MALLOC;
const ALIGNED = OP_ALIGNED;

/**
 * Blocks at byte offsets into one memory: their bytes are read and written in its view (as C's loop
 * does through the pointer), taken anew when a block lies beyond it (a wasm memory grew; its old view
 * reads 0 bytes long).
 */
function offsetOps(a: ReplayAllocator<number>, t: Trace, st: ReplayState<number>, from: number, to: number): void {
  const { ops, blocks, idWords, hashes } = st;
  const target = a.target;
  const memory = a.memory as Extract<BlockMemory, { pointers: 'offsets' }>;
  let u8 = memory.bytes();
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = st.hash;
  let thread = st.thread;
  const footprint = st.footprint;
  for (let i = from; i < to; i++) {
    const w = ops[OP_WORDS * i];
    const k = w & KIND_MASK;
    const id = ops[OP_WORDS * i + 1];
    if (k === FREE) {
      const p = blocks[id];
      const words = idWords[ID_WORDS * id + 1];
      const tag = words & 255;
      if (p === 0 || u8[p] !== tag || u8[p + idWords[ID_WORDS * id] - 1] !== tag) badBlock(a, t, st, i, 'before free');
      if (words < FROM_ALIGNED) target.free(p);
      else a.freeAligned(p);
      blocks[id] = 0;
      frees++;
      continue;
    }
    const n = ops[OP_WORDS * i + 2];
    const b = n > 0 ? n : 1;
    let p: number;
    if (k === MALLOC) {
      p = target.malloc(b);
      if (blocks[id] !== 0) badBlock(a, t, st, i, 'allocation');
    } else {
      p = otherAllocation(a, t, st, i, b);
    }
    if (p === 0) throw new ReplayOutOfMemory(i, id, b);
    if (p + b > u8.length) u8 = memory.bytes();
    const tag = i & 255;
    blocks[id] = p;
    idWords[ID_WORDS * id] = b;
    idWords[ID_WORDS * id + 1] = k === ALIGNED ? tag | FROM_ALIGNED : tag;
    if (footprint === null) {
      u8[p] = tag;
      u8[p + b - 1] = tag;
    } else {
      writeWhole(a, footprint, p, b, tag);
    }
    mallocs++;
    bytes += n;
    if (w >>> THREAD_SHIFT !== thread) {
      hashes[thread] = hash;
      thread = w >>> THREAD_SHIFT;
      hash = hashes[thread];
    }
    hash = fingerprintStep(hash, k, n);
  }
  st.mallocs += mallocs;
  st.frees += frees;
  st.bytes += bytes;
  st.hash = hash;
  st.thread = thread;
}

/** Blocks that are objects of their own (v8): their bytes through the adapter. */
function objectOps<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, from: number, to: number): void {
  const { ops, blocks, idWords, hashes } = st;
  const target = a.target;
  const empty = a.empty;
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = st.hash;
  let thread = st.thread;
  const footprint = st.footprint;
  for (let i = from; i < to; i++) {
    const w = ops[OP_WORDS * i];
    const k = w & KIND_MASK;
    const id = ops[OP_WORDS * i + 1];
    if (k === FREE) {
      const p = blocks[id];
      const words = idWords[ID_WORDS * id + 1];
      const tag = words & 255;
      if (p === empty || a.byteAt(p, 0) !== tag || a.byteAt(p, idWords[ID_WORDS * id] - 1) !== tag) badBlock(a, t, st, i, 'before free');
      if (words < FROM_ALIGNED) target.free(p);
      else a.freeAligned(p);
      blocks[id] = empty;
      frees++;
      continue;
    }
    const n = ops[OP_WORDS * i + 2];
    const b = n > 0 ? n : 1;
    let p: P;
    if (k === MALLOC) {
      p = target.malloc(b);
      if (blocks[id] !== empty) badBlock(a, t, st, i, 'allocation');
    } else {
      p = otherAllocation(a, t, st, i, b);
    }
    if (p === empty) throw new ReplayOutOfMemory(i, id, b);
    const tag = i & 255;
    blocks[id] = p;
    idWords[ID_WORDS * id] = b;
    idWords[ID_WORDS * id + 1] = k === ALIGNED ? tag | FROM_ALIGNED : tag;
    if (footprint === null) a.touch(p, b, tag);
    else writeWhole(a, footprint, p, b, tag);
    mallocs++;
    bytes += n;
    if (w >>> THREAD_SHIFT !== thread) {
      hashes[thread] = hash;
      thread = w >>> THREAD_SHIFT;
      hash = hashes[thread];
    }
    hash = fingerprintStep(hash, k, n);
  }
  st.mallocs += mallocs;
  st.frees += frees;
  st.bytes += bytes;
  st.hash = hash;
  st.thread = thread;
}

/** The footprint pass's writes of a block just made: all its bytes, and its place in the recording. */
function writeWhole<P>(a: ReplayAllocator<P>, footprint: FootprintWrites<P>, p: P, b: number, tag: number): void {
  a.fill(p, b, tag);
  if (footprint.record !== null) footprint.record[footprint.recorded++] = p;
}

/** The tag written into the first and last byte of the block of `id`. */
export function tagOf<P>(st: ReplayState<P>, id: number): number {
  return st.idWords[ID_WORDS * id + 1] & 255;
}

/** calloc, realloc and aligned, with their checks; kept out of the loops so their bodies stay small. */
function otherAllocation<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, i: number, b: number): P {
  const id = t.id[i];
  const k = t.kind[i];
  const empty = a.empty;
  const old = st.blocks[id];
  if (k === OP_REALLOC) {
    const tag = tagOf(st, id);
    if (old === empty || a.byteAt(old, 0) !== tag || a.byteAt(old, madeBytes(st, id) - 1) !== tag) badBlock(a, t, st, i, 'before realloc');
    const p = a.realloc(old, madeBytes(st, id), b, st.idWords[ID_WORDS * id + 1] >= FROM_ALIGNED);
    if (p !== empty && a.byteAt(p, 0) !== tag) throw new ReplayError(i, id, "realloc lost the block's first byte");
    return p;
  }
  if (old !== empty) badBlock(a, t, st, i, 'allocation');
  if (k === OP_CALLOC) {
    const p = b === st.ops[OP_WORDS * i + 2] ? a.calloc(t.aux[i], t.size[i]) : a.calloc(1, 1);
    if (p !== empty && (a.byteAt(p, 0) !== 0 || a.byteAt(p, b - 1) !== 0)) {
      throw new ReplayError(i, id, 'calloc returned a block that is not zeroed');
    }
    return p;
  }
  if (k === OP_ALIGNED) {
    const p = a.alignedAlloc(t.aux[i], b);
    if (p !== empty && !a.isAligned(p, t.aux[i])) throw new ReplayError(i, id, `block not aligned to ${t.aux[i]}`);
    return p;
  }
  throw new ReplayError(i, id, `unknown op kind ${k}`);
}

/** Why op `i` cannot go on: its ID holds no block (or one already), or the block's bytes were overwritten. */
function badBlock<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, i: number, when: string): never {
  const id = t.id[i];
  const p = st.blocks[id];
  const letter = t.kind[i] === OP_FREE ? 'f' : 'r';
  if (when === 'allocation') throw new ReplayError(i, id, 'allocation of an ID that already holds a block');
  if (p === a.empty) throw new ReplayError(i, id, `${letter} of an ID that holds no block`);
  return blockOverwritten(a, st, p, id, i, when);
}

function blockOverwritten<P>(a: ReplayAllocator<P>, st: ReplayState<P>, p: P, id: number, i: number, when: string): never {
  const first = a.byteAt(p, 0);
  const last = a.byteAt(p, madeBytes(st, id) - 1);
  throw new ReplayError(i, id, `${when}: first/last byte ${first}/${last}, written ${tagOf(st, id)}: another block overlaps this one`);
}

export function beginPass<P>(st: ReplayState<P>): void {
  st.mallocs = st.frees = st.bytes = st.hash = st.thread = 0;
  st.hashes.fill(0);
}

/** Frees the blocks the trace left live (untimed), checking each first. */
function endPass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>): void {
  for (let id = 0; id < st.blocks.length; id++) if (st.blocks[id] !== a.empty) freeLeftover(a, st, id, t.length);
}

/** Checks and frees the block `id` holds after the trace's last op (`at`: that op count, for the message). */
export function freeLeftover<P>(a: ReplayAllocator<P>, st: ReplayState<P>, id: number, at: number): void {
  const p = st.blocks[id];
  const tag = tagOf(st, id);
  if (a.byteAt(p, 0) !== tag || a.byteAt(p, madeBytes(st, id) - 1) !== tag) blockOverwritten(a, st, p, id, at, 'at the pass end');
  if (st.idWords[ID_WORDS * id + 1] >= FROM_ALIGNED) a.freeAligned(p);
  else a.target.free(p);
  st.blocks[id] = a.empty;
}

export function fingerprintOf<P>(st: ReplayState<P>): Fingerprint {
  st.hashes[st.thread] = st.hash;
  return { mallocs: st.mallocs, frees: st.frees, bytes: st.bytes, hash: sumThreadHashes(st.hashes) };
}

/** One pass in calls of `chunk` ops; returns its seconds (the pass-end frees are not timed). */
function pass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, chunk: number): number {
  beginPass(st);
  const start = process.hrtime.bigint();
  for (let from = 0; from < t.length; from += chunk) replayOps(a, t, st, from, Math.min(t.length, from + chunk));
  const end = process.hrtime.bigint();
  endPass(a, t, st);
  return Number(end - start) / 1e9;
}

/** The warm-up passes (`warmUp`, by default warmUpPassCount's), then `loops` timed passes; none of either with no loops. */
export function timedPasses<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, loops: number, warmUp?: WarmUp): TimedPasses {
  const warmupPasses = loops > 0 ? warmUpPasses(a, t, st, warmUp) : 0;
  const times = newPassTimes();
  for (let l = 0; l < loops; l++) addPass(times, timedPass(a, t, st));
  return { ops: loops * t.length, ...times, fingerprint: fingerprintOf(st), warmupPasses };
}

/**
 * Ops the warm-up replays before the first timed pass, so that V8 has optimised an allocator's slow
 * paths too: a program calls its coalescing tier, large tier or refill a few thousand times a pass,
 * and V8 optimises a function on the work it has done. With two warm-up passes, z3-queens' stash,
 * large malloc and arena functions were optimised during its timed passes (`--trace-opt`), and the
 * lab timed hakmem's slow paths unoptimised (docs/footprint.md, "Warm-up until the slow paths are
 * compiled").
 */
export const WARMUP_OPS = 16_000_000;
/** The warm-up passes at least (one in short calls, one as a timed pass runs), and at most (a trace of few ops). */
export const WARMUP_MIN_PASSES = 2;
export const WARMUP_MAX_PASSES = 200;
/** An allocator slower than this stops warming up here, after WARMUP_MIN_PASSES (thing: 30 s a pass). */
export const WARMUP_MAX_SECONDS = 10;

/** How many warm-up passes, and the seconds after which they stop early (Infinity: never). */
export interface WarmUp {
  passes: number;
  maxSeconds: number;
}

/** The warm-up passes over a trace of `length` ops: WARMUP_OPS, within the bounds above. */
export function warmUpPassCount(length: number): number {
  return Math.min(WARMUP_MAX_PASSES, Math.max(WARMUP_MIN_PASSES, Math.ceil(WARMUP_OPS / Math.max(1, length))));
}

/**
 * The passes before the timed ones, not timed; how many ran. The first in short calls while V8
 * compiles the loop, the others as a timed pass runs: code compiled in the background goes in at the
 * next call, so without them the first timed pass could run on older code (the oracle's worker, idle
 * until asked, ran its first pass of lua-objects at 29 ns an op and the next at 10.6). With `record`,
 * the last is the recording pass (recordingPass). Then a full garbage collection
 * (collect-garbage.ts's).
 */
export function warmUpPasses<P>(
  a: ReplayAllocator<P>,
  t: Trace,
  st: ReplayState<P>,
  { passes, maxSeconds }: WarmUp = { passes: warmUpPassCount(t.length), maxSeconds: WARMUP_MAX_SECONDS },
  record?: { [k: number]: P },
): number {
  const start = process.hrtime.bigint();
  pass(a, t, st, WARMUP_CHUNK_OPS);
  let ran = 1;
  const last = record ? 1 : 0;
  while (ran < passes - last && (ran < WARMUP_MIN_PASSES - last || Number(process.hrtime.bigint() - start) / 1e9 < maxSeconds)) {
    pass(a, t, st, CHUNK_OPS);
    ran++;
  }
  if (record) {
    recordingPass(a, t, st, record);
    ran++;
  }
  collectGarbage();
  return ran;
}

/**
 * An untimed pass that puts the block of every allocation op into `record`, in order: the oracle's
 * blocks, taken after the warm-up passes, so that the oracle's loop touches the blocks the timed
 * passes find. An allocator's placement drifts from pass to pass (its free lists reorder), and the
 * loop's own cache misses follow the blocks: taken from the footprint pass, on a fresh heap, they
 * counted the loop's extra misses on an aged heap as allocator time (docs/footprint.md "The oracle
 * hands out the timed passes' blocks"). Blocks are written whole, as in the footprint pass.
 */
export function recordingPass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, record: { [k: number]: P }): void {
  st.footprint = { record, recorded: 0 };
  try {
    pass(a, t, st, CHUNK_OPS);
  } finally {
    st.footprint = null;
  }
}

/** One timed pass; its seconds. */
export function timedPass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>): number {
  return pass(a, t, st, CHUNK_OPS);
}

/**
 * The pass that writes whole blocks and watches the footprint; samples every `options.timeline` ops.
 * With `record`, the block of every allocation op goes into it in order (the oracle's addresses).
 *
 * It calls the loops in runs of ops as the timed passes do, not op by op: V8 compiles a loop on what
 * its calls have done so far, and called op by op through a pass whose first ops are mostly mallocs,
 * the compiled loop called hakmem's free rather than inlining it, for every pass after (perl-words).
 * One op a run only where the probe must be read after each.
 */
export function footprintPass<P>(
  a: ReplayAllocator<P>,
  t: Trace,
  st: ReplayState<P>,
  options: Pick<ReplayOptions, 'timeline' | 'shape'>,
  record?: { [k: number]: P },
): ReplayFootprint {
  const probe = 'unavailable' in a.footprint ? null : a.footprint;
  const footprintMethod = probe ? probe.method : `unavailable: ${(a.footprint as { unavailable: string }).unavailable}`;
  const every = options.timeline ?? 0;
  const timeline: TimelineSample[] | null = every > 0 ? [] : null;
  // Per live ID, as the trace counts it (0 stays 0): the timeline's live bytes.
  const requested = timeline ? new Float64Array(st.blocks.length) : null;
  const run = probe?.peakNeedsSampling ? 1 : CHUNK_OPS;
  let live = 0;
  beginPass(st);
  st.footprint = { record: record ?? null, recorded: 0 };
  try {
    for (let from = 0; from < t.length; ) {
      let to = Math.min(t.length, from + run);
      if (timeline) to = Math.min(to, (Math.floor(from / every) + 1) * every);
      replayOps(a, t, st, from, to);
      if (probe?.peakNeedsSampling) probe.current();
      if (timeline && requested) {
        live = liveAfter(t, st, requested, from, to, live);
        if (to % every === 0 || to === t.length) {
          timeline.push({ op: to, liveBytes: live, footprintBytes: probe ? probe.current() : null, ...options.shape?.() });
        }
      }
      from = to;
    }
  } finally {
    st.footprint = null;
  }
  const peakFootprintBytes = probe ? probe.peak() : null;
  endPass(a, t, st);
  return { peakFootprintBytes, footprintMethod, timeline };
}

/** The bytes live after ops `from` to `to`, as the trace asks for them, from `live` before them; `requested` per ID. */
function liveAfter<P>(t: Trace, st: ReplayState<P>, requested: Float64Array, from: number, to: number, live: number): number {
  for (let i = from; i < to; i++) {
    const id = t.id[i];
    const k = t.kind[i];
    if (k === OP_FREE || k === OP_REALLOC) live -= requested[id];
    if (k !== OP_FREE) {
      requested[id] = st.ops[OP_WORDS * i + 2];
      live += requested[id];
    }
  }
  return live;
}

export function latencyPasses<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, loops: number): LatencyReport {
  const timerCost = timerCostNs();
  const hists: Histogram[] = LATENCY_OPS.map(() => newLatencyHistogram());
  for (let l = 0; l < loops; l++) opTimedPass(a, t, st, (i, _before, ns) => recordLatency(hists[t.kind[i]], Math.round(ns)));
  const ops: LatencyReport['ops'] = {};
  LATENCY_OPS.forEach((name, k) => {
    if (hists[k].totalCount > 0) ops[name] = opLatency(hists[k]);
  });
  return { clock: CLOCK, timerCostNs: timerCost, ops };
}

/**
 * One pass with every op timed on its own (the clock read included): after op `i`, `record(i, before,
 * ns)`, `before` being the block its ID held before the op (the state holds the block after it).
 */
export function opTimedPass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, record: (i: number, before: P, ns: number) => void): void {
  beginPass(st);
  for (let i = 0; i < t.length; i++) {
    const before = st.blocks[t.id[i]];
    const t0 = now();
    replayOps(a, t, st, i, i + 1);
    record(i, before, (now() - t0) * 1e6);
  }
  endPass(a, t, st);
}
