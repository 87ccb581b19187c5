/**
 * npm run footprint -- FILE... [--preset P] [--json]
 * Where a hakmem heap's footprint goes at its peak while replaying a trace (docs/footprint.md).
 * Exit codes: 0 done, 1 failed, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { createHeap, isPresetName, type Heap, type HeapOptions, type PresetName } from '../lib/index';
import { ALIGNED_LIVE, linkWord, MAGIC_MASK, tierBlockOf } from '../lib/alloc/header';
import {
  H, KIND_COALESCING, KIND_LARGE, KIND_MID, KIND_SLAB, P, PAGE_SHIFT, S, SLOT_ACTIVE, SLOT_EMPTY, TOUCH_SHIFT, UNITS_PER_PAGE,
} from '../lib/alloc/layout';
import { alignedCarrierOf } from '../lib/alloc/aligned-alloc';
import { COALESCING_PREFIX, coalescingBlockSize, walkCoalescing } from '../lib/alloc/coalescing';
import { cachedBytes } from '../lib/alloc/coalescing-cache';
import { stashedBytes } from '../lib/alloc/coalescing-stash';
import { readTrace } from '../lib/trace/read';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, requestBytes, type Trace } from '../lib/trace/trace';
import { replayFacts } from '../lib/bench/workloads/replay-facts';
import { glibcChunkBytes } from '../lib/bench/measures/glibc-chunk';
import { classFloorOptions, classFloors, type ClassFloors } from '../lib/bench/measures/class-floor';
import { runMain } from './run-main';

const USAGE = `usage: npm run footprint -- FILE... [--preset P] [--json]

Replays each trace (lib/bench/workloads/WORKLOADS.md "replay": every block written whole, as the
bench's footprint pass) on a fresh hakmem heap, finds the op at which the heap's bytes written
(heap.stats().peakHeapBytes) reach their peak, replays again up to that op and breaks the heap's
bytes down there:

  live          bytes the program asked for, of the blocks live at the peak
  rounding      the rest of those blocks (class rounding, the tiny header, the coalescing tier's
                4 bytes a block and 16-byte rounding, large blocks' last 4 KiB)
  cached        free blocks in the thread's front lists (tiny SLL, mid lists, the coalescing tier's cache and stash)
  free          free blocks back on their slab's freelist, the mid class freelist or the coalescing
                tier's free lists
  uncarved      touched slab bytes no block was carved from yet (tiny), span tails (mid), touched
                bytes above a coalescing region's top
  empty slabs   touched bytes of EMPTY slabs (kept by the pool for any class)

per tier, per tiny and mid class, with the slab and SuperSlab counts by state. The rows sum to the
peak. Beside them, glibc's chunks for the same live blocks (glibc KiB): the least glibc's malloc holds
for them, each request and an 8-byte size word rounded up to 16 bytes, at least 32, before its free
chunks and its top; the line after the shares of the peak sets each tier's bytes against that
floor. Above the rows, the heap's resident bytes (heap.stats().residentBytes, its pages ever
written: a buffer cannot give pages back to the system), the figure the bench reports: at the
peak, the tiers' bytes plus the bytes written before and given back to the page arena or above a
top; after it, the bytes first written later.

The last line gives the floor of a heap whose small blocks live on pages of one class each, each
block in its smallest class (lib/bench/measures/class-floor.ts): the most, over the trace, of the
live tiny-tier blocks in the heap's classes, each class in whole 4 KiB pages of its own, and larger
blocks at their requested bytes; then the same with each class keeping the most pages it has needed
so far (a heap whose pages never change class holds that much); then with the best classes at each
op. No policy of such a heap holds less than the first and the last; one that puts blocks in larger
classes (borrowing, aligned carriers) can.

--preset picks the heap's preset (default: current); --json prints one object per trace.

A trace recorded on several threads is replayed on one, op by op in recorded order (the bench's
--serial). The heap is 64 MiB unless HAKMEM_HEAP_BYTES says more; a trace that does not fit stops
with the op it failed at.
`;

class UsageError extends Error {}

interface Row {
  tier: string;
  cls: number | null;
  blockSize: number | null;
  /** Slabs (tiny) or spans (mid) or runs (large). */
  units: number;
  liveBlocks: number;
  live: number;
  rounding: number;
  cached: number;
  free: number;
  uncarved: number;
  empty: number;
  touched: number;
  /** glibc's chunks for the row's live blocks (glibcChunkBytes of each request). */
  glibcChunks: number;
}

export interface Breakdown {
  trace: string;
  preset: string;
  ops: number;
  peakOp: number;
  peakLiveBytes: number;
  liveAtPeak: number;
  peakHeapBytes: number;
  /** The heap's resident bytes at the end of the trace (they never fall): the bench's footprint. */
  residentBytes: number;
  /** At the peak: bytes of pages written before that no tier holds (given back to the arena, or above a top). */
  givenBackAtPeak: number;
  /** Resident bytes first written after the peak. */
  writtenAfterPeak: number;
  superslabs: number;
  slabs: { active: number; empty: number; unused: number; l0: number };
  rows: Row[];
  totals: Omit<Row, 'tier' | 'cls' | 'blockSize'>;
  /** The floor of pages of one class each: with the heap's tiny classes, with pages that never change class, with the best classes at each op. */
  classFloors: ClassFloors;
}

/** Replays ops [0, stop) on `heap`; returns the live blocks (user pointer -> requested bytes) and the op the peak was last raised at. */
function replay(heap: Heap, t: Trace, maxId: number, stop: number) {
  const ptrs = new Int32Array(maxId + 1);
  const sizes = new Float64Array(maxId + 1);
  const u8 = heap.u8;
  const i32 = heap.mem.i32;
  let peak = 0;
  let peakOp = 0;
  let live = 0;
  let liveAtPeak = 0;
  for (let i = 0; i < stop; i++) {
    const id = t.id[i];
    const k = t.kind[i];
    if (k === OP_FREE) {
      heap.free(ptrs[id]);
      live -= sizes[id];
      ptrs[id] = 0;
    } else {
      const n = requestBytes(t, i);
      const b = n > 0 ? n : 1;
      let p = 0;
      if (k === OP_MALLOC) p = heap.malloc(b);
      else if (k === OP_CALLOC) p = n > 0 ? heap.calloc(t.aux[i], t.size[i]) : heap.calloc(1, 1);
      else if (k === OP_REALLOC) p = heap.realloc(ptrs[id], b);
      else if (k === OP_ALIGNED) p = heap.alignedAlloc(t.aux[i], b);
      if (p === 0) throw new Error(`out of memory at op ${i} (ID ${t.id[i]}, ${b} bytes; set HAKMEM_HEAP_BYTES for a larger heap)`);
      live += n - (ptrs[id] !== 0 ? sizes[id] : 0);
      ptrs[id] = p;
      sizes[id] = n;
      u8.fill(i & 255, p, p + b);
    }
    const now = i32[H.PEAK_TOUCHED_4K];
    if (now > peak) {
      peak = now;
      peakOp = i + 1;
      liveAtPeak = live;
    }
  }
  return { ptrs, sizes, peakOp, liveAtPeak, residentBytes: heap.stats().residentBytes };
}

/**
 * Bytes of pages written before that no tier holds now, by a walk of the pages: what each has had
 * written (P.WRITTEN) less what the run it is in holds touched (every tier touches a run from its
 * first page up, counted there in P.TOUCHED). Checks the pages' sum against the heap's count.
 */
function givenBack(heap: Heap): number {
  const m = heap.mem;
  const i32 = m.i32;
  const held = new Int32Array(m.layout.pages);
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    for (let p = page, units = i32[m.meta(page) + P.TOUCHED]; units > 0; p++, units -= UNITS_PER_PAGE) held[p] = Math.min(UNITS_PER_PAGE, units);
  }
  let written = 0;
  let notHeld = 0;
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const w = i32[m.meta(page) + P.WRITTEN];
    if (held[page] > w) throw new Error(`page ${page} holds ${held[page]} units touched, more than the ${w} it has had written`);
    written += w;
    notHeld += w - held[page];
  }
  if (written << TOUCH_SHIFT !== heap.stats().residentBytes) {
    throw new Error(`the pages have had ${written << TOUCH_SHIFT} bytes written, the heap counts ${heap.stats().residentBytes} resident`);
  }
  return notHeld << TOUCH_SHIFT;
}

function newRow(tier: string, cls: number | null, blockSize: number | null): Row {
  return { tier, cls, blockSize, units: 0, liveBlocks: 0, live: 0, rounding: 0, cached: 0, free: 0, uncarved: 0, empty: 0, touched: 0, glibcChunks: 0 };
}

function breakdown(heap: Heap, ptrs: Int32Array, sizes: Float64Array): Pick<Breakdown, 'rows' | 'slabs' | 'superslabs'> {
  const m = heap.mem;
  const i32 = m.i32;
  const u8 = m.u8;
  const tiny = heap.blockSize.length;
  const tinyRows = Array.from(heap.blockSize, (s, c) => newRow('tiny', c, s));
  const midRows = Array.from(m.midSizes, (s, c) => newRow('mid', c, s));
  const coalescing = newRow('mid', null, null);
  const large = newRow('large', null, null);
  const emptyRow = newRow('empty slabs', null, null);
  // Live blocks, by the tier of their block (an aligned block: its carrier's).
  for (let id = 0; id < ptrs.length; id++) {
    let p = ptrs[id];
    if (p === 0) continue;
    const n = sizes[id] > 0 ? sizes[id] : 1;
    const glibc = glibcChunkBytes(n);
    // Header heaps: the block starts at its header byte, an aligned block inside a carrier block.
    const header = heap.config.align === 1;
    if (header && (u8[p - 1] & MAGIC_MASK) === ALIGNED_LIVE) p = alignedCarrierOf(heap, p);
    const b = header ? p - 1 : p;
    const meta = m.meta(b >>> PAGE_SHIFT);
    const kind = i32[meta + P.KIND];
    if (kind === KIND_SLAB) {
      const r = tinyRows[i32[meta + P.CLASS]];
      r.liveBlocks++;
      r.live += n;
      r.rounding += r.blockSize! - n;
      r.glibcChunks += glibc;
    } else if (kind === KIND_MID) {
      const r = midRows[i32[meta + P.CLASS]];
      r.liveBlocks++;
      r.live += n;
      r.rounding += r.blockSize! - n;
      r.glibcChunks += glibc;
    } else if (kind === KIND_COALESCING) {
      coalescing.liveBlocks++;
      coalescing.live += n;
      // A tiny block in the tier (tinySlabAfterBytes) lies inside a tier block of its own.
      coalescing.rounding += coalescingBlockSize(m, (p & 15) === COALESCING_PREFIX ? p : tierBlockOf(b)) - n;
      coalescing.glibcChunks += glibc;
    } else if (kind === KIND_LARGE) {
      large.liveBlocks++;
      large.units++;
      large.live += n;
      large.rounding += (i32[meta + P.TOUCHED] << TOUCH_SHIFT) - n;
      large.touched += i32[meta + P.TOUCHED] << TOUCH_SHIFT;
      large.glibcChunks += glibc;
    } else throw new Error(`live block ${p} on a page of kind ${kind}`);
  }
  // Tiny slabs.
  const slabs = { active: 0, empty: 0, unused: 0, l0: heap.l0Slab !== 0 ? 1 : 0 };
  let superslabs = 0;
  for (let ss = 0; ss < m.layout.superslabs; ss++) {
    if (i32[m.ssTable + ss * S.WORDS + S.LIVE] !== 1) continue;
    superslabs++;
    const first = ss * m.layout.pagesPerSS;
    for (let page = first; page < first + m.layout.pagesPerSS; page++) {
      const meta = m.meta(page);
      const touched = i32[meta + P.TOUCHED] << TOUCH_SHIFT;
      const state = i32[meta + P.STATE];
      const cls = i32[meta + P.CLASS];
      if (state === SLOT_ACTIVE && cls >= 0 && cls < tiny) {
        slabs.active++;
        const r = tinyRows[cls];
        r.units++;
        r.touched += touched;
        const carved = i32[meta + P.CARVED] * r.blockSize!;
        r.uncarved += touched - carved;
        r.free += carved - i32[meta + P.USED] * r.blockSize!;
      } else if (state === SLOT_EMPTY) {
        slabs.empty++;
        emptyRow.units++;
        emptyRow.empty += touched;
        emptyRow.touched += touched;
      } else {
        slabs.unused++;
        if (touched !== 0) throw new Error(`unused slab ${page} has ${touched} bytes touched`);
      }
    }
  }
  // Front-list blocks, each in its slab's class or, taken from the coalescing tier, in that tier.
  let tinyInTier = 0;
  for (const list of heap.frontLists()) {
    for (let c = 0; c < tiny; c++) {
      for (let b = list.heads[c]; b !== 0; b = i32[linkWord(b)]) {
        if (i32[m.meta(b >>> PAGE_SHIFT) + P.KIND] === KIND_COALESCING) tinyInTier += coalescingBlockSize(m, tierBlockOf(b));
        else tinyRows[c].cached += heap.blockSize[c];
      }
    }
  }
  // Mid spans, their thread lists and class freelists.
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (i32[meta + P.KIND] !== KIND_MID || i32[meta + P.SPAN] !== page) continue;
    const r = midRows[i32[meta + P.CLASS]];
    r.units++;
    const touched = i32[meta + P.TOUCHED] << TOUCH_SHIFT;
    r.touched += touched;
    r.uncarved += touched - i32[meta + P.CARVED] * r.blockSize!;
  }
  for (let c = 0; c < m.midSizes.length; c++) {
    const r = midRows[c];
    r.cached = heap.midCounts[c] * r.blockSize!;
    let n = 0;
    for (let b = i32[H.MID_FREE + c]; b !== 0; b = i32[linkWord(b)]) n++;
    r.free = n * r.blockSize!;
  }
  // The coalescing mid tier's regions: touched bytes are its blocks', free or live, and what lies above a top.
  walkCoalescing(m, {
    region(_first, top, touchedUnits) {
      coalescing.units++;
      coalescing.touched += touchedUnits << TOUCH_SHIFT;
      coalescing.uncarved += (touchedUnits << TOUCH_SHIFT) - top;
    },
    block({ size, free }) {
      if (free) coalescing.free += size;
    },
  });
  coalescing.cached = cachedBytes(heap.cacheCounts) + stashedBytes(m, heap.stashSlots) + tinyInTier;
  const coalescingOther = coalescing.touched - coalescing.uncarved - coalescing.free - coalescing.live - coalescing.rounding - coalescing.cached;
  if (coalescingOther !== 0) throw new Error(`coalescing mid tier: ${coalescingOther} bytes unaccounted`);
  // Tiny: what is neither live nor cached of the used blocks is still counted in `used` (none on one thread).
  for (const r of tinyRows) {
    const usedBytes = r.touched - r.uncarved - r.free;
    const other = usedBytes - r.liveBlocks * r.blockSize! - r.cached;
    if (other !== 0) throw new Error(`tiny class ${r.cls}: ${other} bytes used but neither live nor cached`);
  }
  for (const r of midRows) {
    const other = r.touched - r.uncarved - r.free - r.cached - r.liveBlocks * r.blockSize!;
    if (other !== 0) throw new Error(`mid class ${r.cls}: ${other} bytes unaccounted`);
  }
  const rows = [...tinyRows, ...midRows].filter((r) => r.touched > 0);
  rows.push(coalescing, large, emptyRow);
  return { rows, slabs, superslabs };
}

/** The breakdown of `file` replayed on a heap of `preset`, with `options` over it. */
export async function footprintBreakdown(file: string, preset: PresetName, options: HeapOptions = {}): Promise<Breakdown> {
  const t = await readTrace(file);
  const facts = replayFacts(t);
  const first = replay(createHeap({ ...options, preset }), t, facts.maxId, t.length);
  let heap = createHeap({ ...options, preset });
  let { ptrs, sizes } = replay(heap, t, facts.maxId, first.peakOp);
  const peakHeapBytes = heap.stats().peakHeapBytes;
  if (heap.stats().heapBytes !== peakHeapBytes) {
    // The peak was inside the op: a realloc that moved, the old and the new block live for the copy.
    const i = first.peakOp - 1;
    if (t.kind[i] !== OP_REALLOC) throw new Error(`the peak is inside op ${i}, which is no realloc`);
    heap = createHeap({ ...options, preset });
    ({ ptrs, sizes } = replay(heap, t, facts.maxId, i));
    const n = requestBytes(t, i);
    const p = heap.malloc(n > 0 ? n : 1);
    heap.u8.fill(1, p, p + (n > 0 ? n : 1));
    ptrs = Int32Array.from([...ptrs, p]);
    sizes = Float64Array.from([...sizes, n]);
    if (heap.stats().heapBytes !== peakHeapBytes) throw new Error('the replay did not stop at the peak');
  }
  const b = breakdown(heap, ptrs, sizes);
  const totals = newRow('all', null, null);
  for (const r of b.rows) {
    for (const k of ['units', 'liveBlocks', 'live', 'rounding', 'cached', 'free', 'uncarved', 'empty', 'touched', 'glibcChunks'] as const) totals[k] += r[k];
  }
  if (totals.touched !== peakHeapBytes) throw new Error(`rows sum to ${totals.touched}, the peak is ${peakHeapBytes}`);
  const back = givenBack(heap);
  const residentAtPeak = heap.stats().residentBytes;
  if (residentAtPeak !== peakHeapBytes + back) {
    throw new Error(`resident at the peak ${residentAtPeak} is not the tiers' ${peakHeapBytes} and ${back} given back`);
  }
  const { tier: _t, cls: _c, blockSize: _b, ...sums } = totals;
  const floors = classFloors(t, classFloorOptions(heap.config));
  return {
    trace: file.replace(/^.*\//, '').replace(/\.trace\.gz$/, ''),
    preset,
    ops: t.length,
    peakOp: first.peakOp,
    peakLiveBytes: facts.peakLiveBytes,
    liveAtPeak: first.liveAtPeak,
    peakHeapBytes,
    residentBytes: first.residentBytes,
    givenBackAtPeak: back,
    writtenAfterPeak: first.residentBytes - residentAtPeak,
    ...b,
    totals: sums,
    classFloors: floors,
  };
}

const KiB = (n: number) => (n / 1024).toFixed(0);
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;

function format(b: Breakdown): string {
  const out = [
    `${b.trace} (preset ${b.preset}): peak ${KiB(b.peakHeapBytes)} KiB at op ${b.peakOp} of ${b.ops}; ` +
      `live there ${KiB(b.liveAtPeak)} KiB, the trace's peak live ${KiB(b.peakLiveBytes)} KiB ` +
      `(utilization ${(b.peakLiveBytes / b.peakHeapBytes).toFixed(3)})`,
    `resident ${KiB(b.residentBytes)} KiB (utilization ${(b.peakLiveBytes / b.residentBytes).toFixed(3)}): the peak's ` +
      `${KiB(b.peakHeapBytes)} KiB, ${KiB(b.givenBackAtPeak)} KiB written before and given back by a tier, ` +
      `${KiB(b.writtenAfterPeak)} KiB first written after the peak`,
    `superslabs ${b.superslabs}, slabs active ${b.slabs.active} (L0 ${b.slabs.l0}), empty ${b.slabs.empty}, unused ${b.slabs.unused}`,
    ['tier', 'class', 'size', 'units', 'blocks', 'live', 'rounding', 'cached', 'free', 'uncarved', 'empty', 'touched KiB', 'share', 'glibc KiB']
      .map((h) => h.padStart(9)).join(' '),
  ];
  const cells = (r: Omit<Row, 'tier' | 'cls' | 'blockSize'> & Partial<Row>, tier: string) =>
    [tier, r.cls ?? '', r.blockSize ?? '', r.units, r.liveBlocks, KiB(r.live), KiB(r.rounding), KiB(r.cached), KiB(r.free), KiB(r.uncarved), KiB(r.empty), KiB(r.touched), pct(r.touched, b.peakHeapBytes), KiB(r.glibcChunks)]
      .map((v) => String(v).padStart(9)).join(' ');
  for (const r of b.rows) if (r.touched > 0) out.push(cells(r, r.tier));
  out.push(cells(b.totals, 'all'));
  const t = b.totals;
  out.push(
    `shares of the peak: live ${pct(t.live, t.touched)}, rounding ${pct(t.rounding, t.touched)}, cached ${pct(t.cached, t.touched)}, ` +
      `free ${pct(t.free, t.touched)}, uncarved ${pct(t.uncarved, t.touched)}, empty slabs ${pct(t.empty, t.touched)}`,
    `above glibc's chunks for the same live blocks: ${aboveGlibc(b).join(', ')}`,
    `pages of one class each hold at least ${KiB(b.classFloors.heapClasses.bytes)} KiB with these classes (at op ${b.classFloors.heapClasses.op}), ` +
      `${KiB(b.classFloors.pagesKept.bytes)} KiB if no page changes class (at op ${b.classFloors.pagesKept.op}), ` +
      `${KiB(b.classFloors.anyClasses.bytes)} KiB with the best classes at each op (at op ${b.classFloors.anyClasses.op})`,
  );
  return out.join('\n');
}

/** Per tier (empty slabs counted as the tiny tier's), then for the heap: touched bytes against glibc's chunks for its live blocks. */
function aboveGlibc(b: Breakdown): string[] {
  const tiers = new Map<string, { touched: number; glibc: number }>();
  for (const r of b.rows) {
    const tier = r.tier === 'empty slabs' ? 'tiny' : r.tier;
    const t = tiers.get(tier) ?? { touched: 0, glibc: 0 };
    t.touched += r.touched;
    t.glibc += r.glibcChunks;
    tiers.set(tier, t);
  }
  tiers.set('all', { touched: b.totals.touched, glibc: b.totals.glibcChunks });
  const signed = (n: number) => {
    const k = Math.round(n / 1024);
    return k < 0 ? String(k) : `+${k}`;
  };
  return [...tiers].filter(([, t]) => t.touched > 0).map(([tier, t]) => `${tier} ${signed(t.touched - t.glibc)} KiB (${KiB(t.touched)} against ${KiB(t.glibc)})`);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { preset: { type: 'string', default: 'current' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (positionals.length === 0) throw new UsageError('no trace given');
    if (!isPresetName(values.preset!)) throw new UsageError(`unknown preset '${values.preset}'`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  for (const file of positionals) {
    const b = await footprintBreakdown(file, values.preset as PresetName);
    process.stdout.write(values.json ? JSON.stringify(b) + '\n' : format(b) + '\n\n');
  }
  return 0;
}

if (require.main === module) runMain('footprint', main);
