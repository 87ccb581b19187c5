/**
 * Trace replay (lib/bench/workloads/WORKLOADS.md "replay") on a TypeScript allocator, in passes
 * that each start with no block live: a footprint pass (whole blocks written, footprint and the
 * optional timeline sampled), an untimed warm-up pass, `loops` timed passes, and with latency
 * `loops` more passes with every op timed. Scripts/native/replay.c does the same in C.
 */
import type { Histogram } from 'hdr-histogram-js';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, type Trace } from '../../trace/trace';
import type { ReplayAllocator, Slots } from '../adapters/allocator-adapter';
import type { HakmemShape } from '../adapters/hakmem';
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
import { fingerprintStep, ReplayError, type ReplayFacts } from './replay-facts';

/** The allocator had no memory for a request: a result (the run is reported as not done), not a bug. */
export class ReplayOutOfMemory extends Error {
  constructor(op: number, blockId: number, bytes: number) {
    super(`out of memory at op ${op} (ID ${blockId}, ${bytes} bytes)`); // as the C replayer says it
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

export interface ReplayRun extends ReplayFootprint {
  /** loops * trace length. */
  ops: number;
  /** The timed passes only. */
  seconds: number;
  /** Of the last timed pass. */
  fingerprint: Fingerprint;
  latency: LatencyReport | null;
}

/** Per block ID: the block, its requested bytes, its tag (the byte in its first and last byte), its origin. */
interface ReplayState<P> {
  readonly blocks: Slots<P>;
  readonly sizes: Float64Array;
  readonly tags: Uint8Array;
  /** 1 where the block came from alignedAlloc. */
  readonly aligned: Uint8Array;
  /** MALLOCS, FREES, BYTES, HASH of the pass so far. */
  readonly fp: Float64Array;
}

const MALLOCS = 0;
const FREES = 1;
const BYTES = 2;
const HASH = 3;

// As random-mixed: short calls while V8 warms the loop up (no on-stack compiled code), long ones timed.
const CHUNK_OPS = 1 << 14;
const WARMUP_CHUNK_OPS = 128;

export function replayTrace<P>(a: ReplayAllocator<P>, t: Trace, facts: ReplayFacts, options: ReplayOptions): ReplayRun {
  const st = newState(a, facts);
  const footprint = footprintPass(a, t, st, options);
  timedPass(a, t, st, WARMUP_CHUNK_OPS);
  let seconds = 0;
  for (let l = 0; l < options.loops; l++) seconds += timedPass(a, t, st, CHUNK_OPS);
  const fingerprint = fingerprintOf(st);
  const latency = options.latency ? latencyPasses(a, t, st, options.loops) : null;
  return { ops: options.loops * t.length, seconds, fingerprint, ...footprint, latency };
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
  return footprintPass(a, t, newState(a, facts), options);
}

function newState<P>(a: ReplayAllocator<P>, facts: ReplayFacts): ReplayState<P> {
  return {
    blocks: a.newSlots(facts.maxId + 1),
    sizes: new Float64Array(facts.maxId + 1),
    tags: new Uint8Array(facts.maxId + 1),
    aligned: new Uint8Array(facts.maxId + 1),
    fp: new Float64Array(4),
  };
}

/** Op `i` of the trace on the allocator, with the first/last-byte checks; a 0-byte request is made for 1 byte. */
function replayOp<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, i: number): void {
  const id = t.id[i];
  const k = t.kind[i];
  const blocks = st.blocks;
  const empty = a.empty;
  if (k === OP_FREE) {
    const p = blocks[id];
    if (p === empty) throw new ReplayError(i, id, 'f of an ID that holds no block');
    checkBlock(a, st, p, id, i, 'before free');
    if (st.aligned[id] === 1) a.freeAligned(p);
    else a.target.free(p);
    blocks[id] = empty;
    st.fp[FREES]++;
    return;
  }
  const n = k === OP_CALLOC ? t.aux[i] * t.size[i] : t.size[i];
  const b = n > 0 ? n : 1;
  let p: P;
  switch (k) {
    case OP_MALLOC:
      p = a.target.malloc(b);
      break;
    case OP_CALLOC:
      p = n > 0 ? a.calloc(t.aux[i], t.size[i]) : a.calloc(1, 1);
      if (p !== empty && (a.byteAt(p, 0) !== 0 || a.byteAt(p, b - 1) !== 0)) {
        throw new ReplayError(i, id, 'calloc returned a block that is not zeroed');
      }
      break;
    case OP_REALLOC: {
      const old = blocks[id];
      if (old === empty) throw new ReplayError(i, id, 'r of an ID that holds no block');
      checkBlock(a, st, old, id, i, 'before realloc');
      const was = st.sizes[id];
      p = a.realloc(old, was > 0 ? was : 1, b, st.aligned[id] === 1);
      if (p !== empty && a.byteAt(p, 0) !== st.tags[id]) throw new ReplayError(i, id, "realloc lost the block's first byte");
      break;
    }
    case OP_ALIGNED:
      p = a.alignedAlloc(t.aux[i], b);
      if (p !== empty && !a.isAligned(p, t.aux[i])) throw new ReplayError(i, id, `block not aligned to ${t.aux[i]}`);
      break;
    default:
      throw new ReplayError(i, id, `unknown op kind ${k}`);
  }
  if (p === empty) throw new ReplayOutOfMemory(i, id, b);
  if (k !== OP_REALLOC && blocks[id] !== empty) throw new ReplayError(i, id, 'allocation of an ID that already holds a block');
  blocks[id] = p;
  st.sizes[id] = n;
  st.aligned[id] = k === OP_ALIGNED ? 1 : 0;
  const tag = i & 255;
  st.tags[id] = tag;
  a.touch(p, b, tag);
  const fp = st.fp;
  fp[MALLOCS]++;
  fp[BYTES] += n;
  fp[HASH] = fingerprintStep(fp[HASH], k, n);
}

// Kept out of replayOp so its body stays small for the optimiser.
function checkBlock<P>(a: ReplayAllocator<P>, st: ReplayState<P>, p: P, id: number, i: number, when: string): void {
  const tag = st.tags[id];
  const last = st.sizes[id] > 0 ? st.sizes[id] - 1 : 0;
  if (a.byteAt(p, 0) !== tag || a.byteAt(p, last) !== tag) {
    throw new ReplayError(
      i,
      id,
      `${when}: first/last byte ${a.byteAt(p, 0)}/${a.byteAt(p, last)}, written ${tag}: another block overlaps this one`,
    );
  }
}

function runOps<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, from: number, to: number): void {
  for (let i = from; i < to; i++) replayOp(a, t, st, i);
}

function beginPass<P>(st: ReplayState<P>): void {
  st.fp.fill(0);
}

/** Frees the blocks the trace left live (untimed), checking each first. */
function endPass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>): void {
  const empty = a.empty;
  for (let id = 0; id < st.blocks.length; id++) {
    const p = st.blocks[id];
    if (p === empty) continue;
    checkBlock(a, st, p, id, t.length, 'at the pass end');
    if (st.aligned[id] === 1) a.freeAligned(p);
    else a.target.free(p);
    st.blocks[id] = empty;
  }
}

function fingerprintOf<P>(st: ReplayState<P>): Fingerprint {
  const fp = st.fp;
  return { mallocs: fp[MALLOCS], frees: fp[FREES], bytes: fp[BYTES], hash: fp[HASH] >>> 0 };
}

/** One pass, timed; the pass-end frees are not. */
function timedPass<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, chunk: number): number {
  beginPass(st);
  const start = process.hrtime.bigint();
  for (let from = 0; from < t.length; from += chunk) runOps(a, t, st, from, Math.min(t.length, from + chunk));
  const end = process.hrtime.bigint();
  endPass(a, t, st);
  return Number(end - start) / 1e9;
}

/** The pass that writes whole blocks and watches the footprint; samples every `options.timeline` ops. */
function footprintPass<P>(
  a: ReplayAllocator<P>,
  t: Trace,
  st: ReplayState<P>,
  options: Pick<ReplayOptions, 'timeline' | 'shape'>,
): ReplayFootprint {
  const probe = 'unavailable' in a.footprint ? null : a.footprint;
  const footprintMethod = probe ? probe.method : `unavailable: ${(a.footprint as { unavailable: string }).unavailable}`;
  const every = options.timeline ?? 0;
  const timeline: TimelineSample[] | null = every > 0 ? [] : null;
  let live = 0;
  beginPass(st);
  for (let i = 0; i < t.length; i++) {
    const id = t.id[i];
    const before = st.blocks[id] === a.empty ? 0 : st.sizes[id];
    replayOp(a, t, st, i);
    if (t.kind[i] !== OP_FREE) {
      const n = st.sizes[id];
      a.fill(st.blocks[id], n > 0 ? n : 1, st.tags[id]);
      live += n;
    }
    live -= before;
    if (probe?.peakNeedsSampling) probe.current();
    if (timeline && ((i + 1) % every === 0 || i + 1 === t.length)) {
      timeline.push({ op: i + 1, liveBytes: live, footprintBytes: probe ? probe.current() : null, ...options.shape?.() });
    }
  }
  const peakFootprintBytes = probe ? probe.peak() : null;
  endPass(a, t, st);
  return { peakFootprintBytes, footprintMethod, timeline };
}

function latencyPasses<P>(a: ReplayAllocator<P>, t: Trace, st: ReplayState<P>, loops: number): LatencyReport {
  const timerCost = timerCostNs();
  const hists: Histogram[] = LATENCY_OPS.map(() => newLatencyHistogram());
  for (let l = 0; l < loops; l++) {
    beginPass(st);
    for (let i = 0; i < t.length; i++) {
      const t0 = now();
      replayOp(a, t, st, i);
      const ns = (now() - t0) * 1e6;
      recordLatency(hists[t.kind[i]], Math.round(ns));
    }
    endPass(a, t, st);
  }
  const ops: LatencyReport['ops'] = {};
  LATENCY_OPS.forEach((name, k) => {
    if (hists[k].totalCount > 0) ops[name] = opLatency(hists[k]);
  });
  return { clock: CLOCK, timerCostNs: timerCost, ops };
}
