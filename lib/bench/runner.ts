/**
 * Runs one benchmark request on one allocator, in this process (TypeScript
 * allocators) or in the C harness (native ones), and reports it as a
 * BenchResult: the shape of `npm run bench -- ... --json`, one matrix row.
 */
import { createTsAllocator, type HakmemConfig } from './adapters/index';
import { isNativeAllocator, type AllocatorName } from './adapters/allocators';
import type { BenchName, BenchRequest, CrossThreadArgs, LarsonArgs, RandomMixedArgs, ReplayArgs } from './cli-args';
import type { Breakdown } from './measures/breakdown';
import type { LatencyReport } from './measures/latency';
import type { TimelineSample } from './measures/timeline';
import { larson } from './workloads/larson';
import { isSkipped, runNative } from './native/run-native';
import { benchRandomMixed, type Fingerprint, type LoopResult } from './workloads/random-mixed';
import { replayRandomMixed } from './workloads/random-mixed-replay';
import { RUNNING_NODE, currentRuntime } from './engines/engines';

export interface BenchResult {
  bench: BenchName;
  allocator: AllocatorName;
  /** hakmem's resolved preset, build and config hash; null for other allocators. */
  preset: string | null;
  build: string | null;
  /** hakmem's block alignment (1: the 1-byte header; 8, 16: header-free); null for other allocators. */
  align: number | null;
  configHash: string | null;
  args: RandomMixedArgs | LarsonArgs | CrossThreadArgs | ReplayArgs;
  threads: number;
  /** The JS engine the bench ran on (`node`, `bun`; a pinned engine's name once its launcher labels it) and its version. */
  engine: string;
  engineVersion: string;
  /** null when skipped. */
  ops: number | null;
  seconds: number | null;
  opsPerSec: number | null;
  fingerprint: Fingerprint | null;
  /** The workload's largest live sum of requested sizes; null where not defined (larson, threads). */
  peakLiveBytes: number | null;
  /** The most memory the allocator's heap used; null where unknown. */
  peakHeapBytes: number | null;
  /** Why this baseline could not run on this machine (or, for replay, where it ran out of memory); null when it ran. */
  skipped: string | null;
  /** replay: the most memory the allocator held in the footprint pass; null where it cannot tell (footprintMethod says why). */
  peakFootprintBytes?: number | null;
  /** replay: the trace's thread tags; they are replayed serialized, in recorded order, on one thread. */
  recordedThreads?: number;
  /** replay: peakLiveBytes / peakFootprintBytes. */
  utilization?: number | null;
  footprintMethod?: string;
  /**
   * replay: the footprint pass's peak by the allocator's own statistics (native allocators), beside the
   * resident figure; bytes null where it has none (method says why).
   */
  footprintByStats?: { bytes: number | null; method: string };
  /** replay: ns per op of the oracle, the same loop doing no allocator work (harnessMethod says how); null where it did not run. */
  harnessNsPerOp?: number | null;
  /** replay: ns per op less harnessNsPerOp: the allocator's own time. */
  allocatorNsPerOp?: number | null;
  harnessMethod?: string;
  /** --timeline K: memory every K ops, from a pass of its own. */
  timeline?: TimelineSample[];
  /** replay --latency: per-op latency percentiles, from passes of their own. */
  latency?: LatencyReport;
  /** replay --breakdown (hakmem): time per op kind and tier, from a pass of its own. */
  breakdown?: Breakdown;
}

/** The request's common fields, as a result prints them first: what ran, with which configuration. */
export type ResultBase = Pick<
  BenchResult,
  'bench' | 'allocator' | 'preset' | 'build' | 'align' | 'configHash' | 'args' | 'threads' | 'engine' | 'engineVersion'
>;

export async function runBench(request: BenchRequest): Promise<BenchResult> {
  const { allocator, threads } = request;
  const runtime = currentRuntime();
  // Field order as printed: what ran, with which configuration, then what it measured.
  const base = (h: HakmemConfig | null): ResultBase => ({
    bench: request.bench,
    allocator,
    preset: h?.preset ?? null,
    build: h?.build ?? null,
    align: h?.align ?? null,
    configHash: h?.configHash ?? null,
    args: request.args,
    threads,
    engine: runtime.runtime,
    engineVersion: runtime.version,
  });

  if (request.bench === 'replay') {
    const { runReplay } = await import('./replay-runner');
    return runReplay(request, base);
  }
  if (isNativeAllocator(allocator)) {
    const r =
      request.bench === 'larson'
        ? await runNative(allocator, 'larson', larsonArgv(request.args))
        : request.bench === 'cross-thread'
          ? await runNative(allocator, 'cross-thread', crossThreadArgv(request.args))
          : await runNative(allocator, 'random-mixed', [...randomMixedArgv(request.args), threads]);
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    if (request.bench === 'larson' || request.bench === 'cross-thread') return { ...base(null), ...measured(r, null, null) };
    const peakLiveBytes = checkedPeakLive(request.args, threads, r, allocator);
    return { ...base(null), ...measured(r, peakLiveBytes, null), ...(await timelineOf(request)) };
  }

  const hakmemOptions = { preset: request.preset, build: request.build, align: request.align };
  if (allocator === 'hakmem' && (request.bench === 'larson' || request.bench === 'cross-thread' || threads > 1)) {
    return runHakmemThreads(request, base);
  }
  if (request.bench === 'cross-thread') throw new Error(`cross-thread needs a heap worker threads share; ${allocator} has none`);
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
  return { ...base(ts.hakmem), ...measured(r, peakLiveBytes, ts.peakHeapBytes()), ...(await timelineOf(request)) };
}

/** random-mixed/fixed --timeline K: the loop's requests replayed as a trace on a fresh allocator, sampled. */
async function timelineOf(request: BenchRequest): Promise<{ timeline?: TimelineSample[] }> {
  if (request.timeline === null || request.bench === 'larson' || request.bench === 'replay') return {};
  const { randomMixedTimeline } = await import('./replay-runner');
  return { timeline: await randomMixedTimeline(request, request.args, request.timeline) };
}

/**
 * hakmem on a shared heap with worker threads: larson always (its remote frees and hand-offs are the
 * point, also with one thread), cross-thread always, random-mixed/fixed with --threads > 1.
 */
async function runHakmemThreads(request: BenchRequest, base: (h: HakmemConfig | null) => ResultBase): Promise<BenchResult> {
  const { crossThreadThreads, larsonThreads, randomMixedThreads } = await import('./threads/run-threads');
  const options = { preset: request.preset, build: request.build, align: request.align };
  const r =
    request.bench === 'larson'
      ? await larsonThreads(options, { ...request.args, generations: Infinity })
      : request.bench === 'cross-thread'
        ? await crossThreadThreads(options, request.args)
        : await randomMixedThreads(options, { ...(request.args as RandomMixedArgs), threads: request.threads });
  const h = { preset: r.stats.preset, build: r.stats.build, align: r.stats.align, configHash: r.stats.configHash };
  return { ...base(h), ...measured(r, null, r.stats.peakHeapBytes) } as BenchResult;
}

/** The harness's command line for random-mixed (also fixed), as WORKLOADS.md orders it. */
function randomMixedArgv(a: RandomMixedArgs): number[] {
  return [a.cycles, a.ws, a.seed, a.min, a.max];
}

function crossThreadArgv(a: CrossThreadArgs): number[] {
  return [a.cycles, a.ws, a.seed, a.min, a.max, a.threads];
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

export function measured(r: LoopResult, peakLiveBytes: number | null, peakHeapBytes: number | null) {
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

/** A request that could not run at all (its engine is missing), as a skipped result. */
export function skippedResult(request: BenchRequest, engine: string, engineVersion: string, reason: string): BenchResult {
  const { bench, allocator, preset, build, align, args, threads } = request;
  return {
    bench, allocator, preset: preset ?? null, build: build ?? null, align: align ?? null, configHash: null, args, threads, engine, engineVersion,
    ...skippedFields(reason),
  };
}

export function skippedFields(reason: string) {
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
export function withHeapHint<T>(hakmem: HakmemConfig | null, f: () => T): T {
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
  const what =
    r.bench === 'fixed'
      ? `fixed ${(r.args as RandomMixedArgs).min} B`
      : r.bench === 'replay'
        ? `replay ${(r.args as ReplayArgs).file}`
        : r.bench;
  const align = r.align !== null && r.align !== 1 ? ` align ${r.align}` : '';
  let who =
    r.allocator === 'hakmem' ? `hakmem/${r.preset}${r.build === 'debug' ? '/debug' : ''}${align}` : r.allocator;
  const threads = r.threads > 1 ? `, ${r.threads} threads` : '';
  if (r.engine !== RUNNING_NODE) who += ` on ${r.engine} ${r.engineVersion}`;
  if (r.skipped !== null) return `${what} ${who}: skipped (${r.skipped})`;
  const memory =
    r.peakFootprintBytes === undefined
      ? ''
      : `; peak live ${formatBytes(r.peakLiveBytes)}, footprint ${formatBytes(r.peakFootprintBytes)}` +
        (r.utilization ? `, utilization ${r.utilization.toFixed(2)}` : '');
  const own =
    r.allocatorNsPerOp === undefined || r.allocatorNsPerOp === null
      ? ''
      : `; per op ${formatNs((r.seconds as number) / (r.ops as number))} end to end = ` +
        `allocator ${formatNs(r.allocatorNsPerOp * 1e-9)} + harness ${formatNs((r.harnessNsPerOp as number) * 1e-9)}`;
  return (
    `${what} ${who}: Throughput = ${formatRate(r.opsPerSec as number)} ops/s ` +
    `(${r.ops} ops in ${(r.seconds as number).toFixed(2)} s${threads})${own}${memory}`
  );
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'n/a';
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Seconds as ns, one decimal. */
function formatNs(seconds: number): string {
  return `${(seconds * 1e9).toFixed(1)} ns`;
}

/** 49.1M, 870.2K: one decimal in the largest fitting unit. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}K`;
  return perSecond.toFixed(1);
}
