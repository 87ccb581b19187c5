/**
 * What a trace asks of an allocator: op counts, request sizes (power-of-two buckets), the peak of
 * live requested bytes, block lifetimes in ops, and its threads.
 */
import { IdTable } from './id-table';
import { OP_FREE, OP_REALLOC, requestBytes, type Trace } from './trace';

const OP_NAMES = ['malloc', 'calloc', 'realloc', 'aligned', 'free'] as const;

export interface SizeBucket {
  /** Requests of from..to bytes (both included); the first bucket may be 0..0. */
  from: number;
  to: number;
  count: number;
}

export interface TraceStats {
  ops: number;
  counts: Record<(typeof OP_NAMES)[number], number>;
  /** Distinct thread tags. */
  threads: number;
  /** Sizes of malloc, calloc (N * SIZE), realloc and aligned requests, buckets from the smallest to the largest used. */
  sizes: SizeBucket[];
  /** The most requested bytes live at once (calloc counts N * SIZE; realloc replaces the block's size). */
  peakLiveBytes: number;
  /** Blocks still live at the end, and their bytes. */
  liveAtEnd: { blocks: number; bytes: number };
  /**
   * Ops from a block's allocation (m, c or a; realloc does not restart it) to its free, over the
   * freed blocks; percentiles by nearest rank, null when nothing was freed.
   */
  lifetime: { freed: number; p50: number | null; p90: number | null; p99: number | null; max: number | null; neverFreed: number };
}

export function traceStats(t: Trace): TraceStats {
  const counts = new Float64Array(OP_NAMES.length);
  const bucketCounts: number[] = [];
  const threads = new Set<number>();
  const sizeOf = new IdTable();
  const bornAt = new IdTable();
  const lifetimes = new Float64Array(t.length);
  let freed = 0;
  let liveBlocks = 0;
  let live = 0;
  let peak = 0;

  for (let i = 0; i < t.length; i++) {
    const kind = t.kind[i];
    const id = t.id[i];
    counts[kind]++;
    threads.add(t.thread[i]);
    if (kind === OP_FREE) {
      live -= sizeOf.get(id);
      liveBlocks--;
      lifetimes[freed++] = i - bornAt.get(id);
      sizeOf.delete(id);
      bornAt.delete(id);
      continue;
    }
    const bytes = requestBytes(t, i);
    const b = bucketOf(bytes);
    bucketCounts[b] = (bucketCounts[b] ?? 0) + 1;
    if (kind === OP_REALLOC) {
      live += bytes - sizeOf.get(id);
    } else {
      live += bytes;
      liveBlocks++;
      bornAt.set(id, i);
    }
    sizeOf.set(id, bytes);
    if (live > peak) peak = live;
  }

  const sorted = lifetimes.subarray(0, freed).sort();
  const rank = (p: number) => (freed === 0 ? null : sorted[Math.max(0, Math.ceil(p * freed) - 1)]);

  const first = bucketCounts.findIndex((c) => c !== undefined);
  const sizes: SizeBucket[] = [];
  for (let b = Math.max(first, 0); b < bucketCounts.length; b++) {
    sizes.push({ from: b === 0 ? 0 : 2 ** (b - 1), to: b === 0 ? 0 : 2 ** b - 1, count: bucketCounts[b] ?? 0 });
  }

  return {
    ops: t.length,
    counts: Object.fromEntries(OP_NAMES.map((name, k) => [name, counts[k]])) as TraceStats['counts'],
    threads: threads.size,
    sizes,
    peakLiveBytes: peak,
    liveAtEnd: { blocks: liveBlocks, bytes: live },
    lifetime: { freed, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: rank(1), neverFreed: liveBlocks },
  };
}

/** 0 for 0 bytes, else 1 + floor(log2(bytes)): bucket b holds 2^(b-1) .. 2^b - 1. */
function bucketOf(bytes: number): number {
  if (bytes === 0) return 0;
  if (bytes < 2 ** 32) return 32 - Math.clz32(bytes);
  return Math.floor(Math.log2(bytes)) + 1;
}

/** The stats as a few lines of text. */
export function formatStats(s: TraceStats, source: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `${source}: ${n(s.ops)} ops, ${s.threads} thread(s)`,
    `  ${OP_NAMES.map((name) => `${name} ${n(s.counts[name])}`).join(', ')}`,
    `  peak live ${n(s.peakLiveBytes)} bytes; live at the end ${n(s.liveAtEnd.blocks)} block(s), ${n(s.liveAtEnd.bytes)} bytes`,
    s.lifetime.freed === 0
      ? `  lifetime (ops from allocation to free): nothing freed`
      : `  lifetime (ops from allocation to free): p50 ${n(s.lifetime.p50!)}, p90 ${n(s.lifetime.p90!)}, ` +
        `p99 ${n(s.lifetime.p99!)}, max ${n(s.lifetime.max!)}; never freed ${n(s.lifetime.neverFreed)}`,
    '  request sizes (bytes):',
  ];
  const total = s.sizes.reduce((sum, b) => sum + b.count, 0);
  const widest = Math.max(...s.sizes.map((b) => `${n(b.from)}..${n(b.to)}`.length), 0);
  for (const b of s.sizes) {
    const share = total ? (100 * b.count) / total : 0;
    const bar = '#'.repeat(Math.round(share / 2));
    lines.push(`    ${`${n(b.from)}..${n(b.to)}`.padStart(widest)}  ${n(b.count).padStart(12)}  ${share.toFixed(1).padStart(5)}%  ${bar}`);
  }
  return lines.join('\n') + '\n';
}
