/**
 * Runs one benchmark request on one allocator, in this process (TypeScript
 * allocators) or in the C harness (native ones), and reports it as a
 * BenchResult: the shape of `npm run bench -- ... --json`, one matrix row.
 */
import { createTsAllocator, type HakmemConfig } from './adapters/index';
import { isNativeAllocator, type AllocatorName } from './adapters/allocators';
import type { BenchName, BenchRequest, LarsonArgs, RandomMixedArgs } from './cli-args';
import { larson } from './workloads/larson';
import { isSkipped, runNative } from './native/run-native';
import { benchRandomMixed, type Fingerprint, type LoopResult } from './workloads/random-mixed';
import { replayRandomMixed } from './workloads/random-mixed-replay';

export interface BenchResult {
  bench: BenchName;
  allocator: AllocatorName;
  /** hakmem's resolved preset, build and config hash; null for other allocators. */
  preset: string | null;
  build: string | null;
  /** hakmem's block alignment (1: the 1-byte header; 8, 16: header-free); null for other allocators. */
  align: number | null;
  configHash: string | null;
  args: RandomMixedArgs | LarsonArgs;
  threads: number;
  /** null when skipped. */
  ops: number | null;
  seconds: number | null;
  opsPerSec: number | null;
  fingerprint: Fingerprint | null;
  /** The workload's largest live sum of requested sizes; null where not defined (larson, threads). */
  peakLiveBytes: number | null;
  /** The most memory the allocator's heap used; null where unknown. */
  peakHeapBytes: number | null;
  /** Why this baseline could not run on this machine; null when it ran. */
  skipped: string | null;
}

export async function runBench(request: BenchRequest): Promise<BenchResult> {
  const { allocator, threads } = request;
  // Field order as printed: what ran, with which configuration, then what it measured.
  const base = (h: HakmemConfig | null) => ({
    bench: request.bench,
    allocator,
    preset: h?.preset ?? null,
    build: h?.build ?? null,
    align: h?.align ?? null,
    configHash: h?.configHash ?? null,
    args: request.args,
    threads,
  });

  if (isNativeAllocator(allocator)) {
    const r =
      request.bench === 'larson'
        ? await runNative(allocator, 'larson', larsonArgv(request.args))
        : await runNative(allocator, 'random-mixed', [...randomMixedArgv(request.args), threads]);
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    const peakLiveBytes = request.bench === 'larson' ? null : checkedPeakLive(request.args, threads, r, allocator);
    return { ...base(null), ...measured(r, peakLiveBytes, null) };
  }

  const hakmemOptions = { preset: request.preset, build: request.build, align: request.align };
  if (allocator === 'hakmem' && (request.bench === 'larson' || threads > 1)) return runHakmemThreads(request, base);
  if (request.bench === 'larson') {
    const { min, max, chunks, rounds, seed, seconds } = request.args;
    const ts = await createTsAllocator(allocator, { ...hakmemOptions, slots: chunks, maxSize: max });
    const r = withHeapHint(ts.hakmem, () =>
      larson(ts.allocator, { min, max, chunks, rounds, seed, threads, stop: { seconds } }),
    );
    return { ...base(ts.hakmem), ...measured(r, null, ts.peakHeapBytes()) };
  }

  const { cycles, ws, seed, min, max } = request.args;
  const ts = await createTsAllocator(allocator, { ...hakmemOptions, slots: ws, maxSize: max });
  const r = withHeapHint(ts.hakmem, () => benchRandomMixed(ts.allocator, cycles, ws, seed, min, max));
  const peakLiveBytes = checkedPeakLive(request.args, threads, r, allocator);
  return { ...base(ts.hakmem), ...measured(r, peakLiveBytes, ts.peakHeapBytes()) };
}

/**
 * hakmem on a shared heap with worker threads: larson always (its remote frees and hand-offs are the
 * point, also with one thread), random-mixed/fixed with --threads > 1.
 */
async function runHakmemThreads(request: BenchRequest, base: (h: HakmemConfig | null) => object): Promise<BenchResult> {
  const { larsonThreads, randomMixedThreads } = await import('./threads/run-threads');
  const options = { preset: request.preset, build: request.build, align: request.align };
  const r =
    request.bench === 'larson'
      ? await larsonThreads(options, { ...request.args, generations: Infinity })
      : await randomMixedThreads(options, { ...request.args, threads: request.threads });
  const h = { preset: r.stats.preset, build: r.stats.build, align: r.stats.align, configHash: r.stats.configHash };
  return { ...base(h), ...measured(r, null, r.stats.peakHeapBytes) } as BenchResult;
}

/** The harness's command line for random-mixed (also fixed), as WORKLOADS.md orders it. */
function randomMixedArgv(a: RandomMixedArgs): number[] {
  return [a.cycles, a.ws, a.seed, a.min, a.max];
}

function larsonArgv(a: LarsonArgs): number[] {
  return [a.seconds, a.min, a.max, a.chunks, a.rounds, a.seed, a.threads];
}

/**
 * The workload's peak live bytes, from a replay of its RNG (untimed), which
 * also proves the run did the specified work: its fingerprint must match.
 * With threads, each copy runs its own seed, so there is no single replay.
 */
function checkedPeakLive(a: RandomMixedArgs, threads: number, r: LoopResult, allocator: string): number | null {
  if (threads !== 1) return null;
  const replay = replayRandomMixed(a.cycles, a.ws, a.seed, a.min, a.max);
  const want = replay.fingerprint;
  const got = r.fingerprint;
  if (got.mallocs !== want.mallocs || got.frees !== want.frees || got.bytes !== want.bytes || got.hash !== want.hash) {
    throw new Error(
      `${allocator}: the run's fingerprint ${JSON.stringify(got)} differs from the workload's ` +
        `${JSON.stringify(want)}: the harness did not do the specified work`,
    );
  }
  return replay.peakLiveBytes;
}

function measured(r: LoopResult, peakLiveBytes: number | null, peakHeapBytes: number | null) {
  return {
    ops: r.ops,
    seconds: r.seconds,
    opsPerSec: r.ops / r.seconds,
    fingerprint: r.fingerprint,
    peakLiveBytes,
    peakHeapBytes,
    skipped: null,
  };
}

function skippedFields(reason: string) {
  return {
    ops: null,
    seconds: null,
    opsPerSec: null,
    fingerprint: null,
    peakLiveBytes: null,
    peakHeapBytes: null,
    skipped: reason,
  };
}

/** Runs `f`; an out-of-memory error from a hakmem heap gets told how to enlarge it. */
function withHeapHint<T>(hakmem: HakmemConfig | null, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (hakmem && e instanceof Error && e.message.includes('out of memory')) {
      e.message += ' (set HAKMEM_HEAP_BYTES for a larger heap)';
    }
    throw e;
  }
}

/** The readable line, as the seed printed it: `random-mixed hakmem/current: Throughput = 49.1M ops/s (...)`. */
export function formatResultLine(r: BenchResult): string {
  const what = r.bench === 'fixed' ? `fixed ${(r.args as RandomMixedArgs).min} B` : r.bench;
  const align = r.align !== null && r.align !== 1 ? ` align ${r.align}` : '';
  const who =
    r.allocator === 'hakmem' ? `hakmem/${r.preset}${r.build === 'debug' ? '/debug' : ''}${align}` : r.allocator;
  const threads = r.threads > 1 ? `, ${r.threads} threads` : '';
  if (r.skipped !== null) return `${what} ${who}: skipped (${r.skipped})`;
  return (
    `${what} ${who}: Throughput = ${formatRate(r.opsPerSec as number)} ops/s ` +
    `(${r.ops} ops in ${(r.seconds as number).toFixed(2)} s${threads})`
  );
}

/** 49.1M, 870.2K: one decimal in the largest fitting unit. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}K`;
  return perSecond.toFixed(1);
}
