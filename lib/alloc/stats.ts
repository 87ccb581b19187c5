/**
 * Heap statistics as one plain object: per-route free counts, refill/spill counts, shared-pool stage
 * hits, memory figures. Counters of threads that detached are merged in the buffer; the calling
 * thread's own are added live.
 */
import type { Heap } from "./heap";
import { H, PAGE, STAT_NAMES, TOUCH_SHIFT, type StatName } from "./layout";
import { countsFastPaths } from "./fast-stats";
import { load } from "./sync";

export interface HeapStats {
  preset: string;
  build: string;
  /** The block alignment every block has (1: the 1-byte header). */
  align: number;
  configHash: string;
  /** Every counter; header_fast and mid_free stay 0 unless the heap counts its fast paths (see routes). */
  counters: Record<StatName, number>;
  /**
   * Frees per route: header_fast (1-byte header), page_fast (header-free heaps: page metadata and live
   * bit), ss_hit (registry lookup), mid, large, remote. header_fast, page_fast and mid are null unless
   * the heap counts its fast paths (`fastStats`, or the debug build).
   */
  routes: { header_fast: number | null; page_fast: number | null; ss_hit: number; mid: number | null; large: number; remote: number };
  pool: {
    stage0_l0: number; stage0_5_empty: number; stage1_lockfree: number; stage2_lockfree: number; stage3_new_superslab: number;
    slot_release: number; slot_freelist: number; superslab_completely_empty: number;
  };
  /**
   * Bytes the tiers hold written (4 KiB granularity): falls when a tier gives pages back, as a native
   * heap's resident size falls on munmap.
   */
  heapBytes: number;
  peakHeapBytes: number;
  /**
   * Bytes of the arena's pages ever written (4 KiB granularity): the buffer's resident size, since a
   * buffer cannot give pages back to the system. Never falls; at least peakHeapBytes.
   */
  residentBytes: number;
  /** Bytes of pages taken from the arena (address space in use). */
  mappedBytes: number;
  peakMappedBytes: number;
  superslabs: number;
  peakSuperslabs: number;
  /** Blocks sitting in this thread's front caches, per class. */
  cachedBlocks: number[];
  liveThreads: number;
}

/** Adds this thread's counters into the heap's merged counters (when it detaches). */
export function mergeThreadStats(heap: Heap): void {
  const s = heap.mem.stats64;
  for (let i = 0; i < STAT_NAMES.length; i++) {
    const v = BigInt(heap.stat[i]);
    if (heap.mem.shared) Atomics.add(s, i, v);
    else s[i] += v;
    heap.stat[i] = 0;
  }
}

export function collectStats(heap: Heap): HeapStats {
  const m = heap.mem;
  const c = {} as Record<StatName, number>;
  STAT_NAMES.forEach((name, i) => {
    const merged = m.shared ? Atomics.load(m.stats64, i) : m.stats64[i];
    c[name] = Number(merged) + heap.stat[i];
  });
  const fast = countsFastPaths(m.config);
  return {
    preset: m.config.preset,
    build: m.config.build,
    align: m.config.align,
    configHash: heap.configHash,
    counters: c,
    routes: {
      header_fast: fast ? c.header_fast : null, page_fast: fast ? c.page_fast : null, ss_hit: c.ss_hit, mid: fast ? c.mid_free : null,
      large: c.large_free, remote: c.remote_free,
    },
    pool: {
      stage0_l0: c.stage0_l0, stage0_5_empty: c.stage0_5_empty, stage1_lockfree: c.stage1_lockfree,
      stage2_lockfree: c.stage2_lockfree, stage3_new_superslab: c.stage3_new_superslab,
      slot_release: c.slot_release, slot_freelist: c.slot_freelist, superslab_completely_empty: c.superslab_completely_empty,
    },
    heapBytes: load(m, H.TOUCHED_4K) << TOUCH_SHIFT,
    peakHeapBytes: load(m, H.PEAK_TOUCHED_4K) << TOUCH_SHIFT,
    residentBytes: load(m, H.RESIDENT_4K) << TOUCH_SHIFT,
    mappedBytes: load(m, H.PAGES_IN_USE) * PAGE,
    peakMappedBytes: load(m, H.PEAK_PAGES) * PAGE,
    superslabs: load(m, H.SUPERSLABS),
    peakSuperslabs: load(m, H.PEAK_SUPERSLABS),
    cachedBlocks: Array.from({ length: heap.blockSize.length }, (_, cls) => heap.frontLength(cls)),
    liveThreads: load(m, H.LIVE_THREADS),
  };
}

/** The stats as the seed printed them at exit, one counter per line. */
export function formatStats(s: HeapStats): string {
  const lines = [`[hakmem-ts stats] preset=${s.preset} build=${s.build} config=${s.configHash}`];
  for (const [k, v] of Object.entries(s.counters)) if (v !== 0) lines.push(`  ${k.padEnd(28)} ${v}`);
  lines.push(`  heap bytes (peak)            ${s.heapBytes} (${s.peakHeapBytes})`);
  lines.push(`  resident bytes               ${s.residentBytes}`);
  lines.push(`  superslabs (peak)            ${s.superslabs} (${s.peakSuperslabs})`);
  return lines.join("\n");
}
