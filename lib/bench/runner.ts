/**
 * Runs one benchmark request on one allocator, in this process (TypeScript
 * allocators) or in the C harness (native ones), and reports it as a
 * BenchResult: the shape of `npm run bench -- ... --json`, one matrix row.
 */
import type { HakmemConfig } from './adapters/index';
import type { AllocatorName } from './adapters/allocators';
import type { BenchName, BenchRequest } from './cli-args';
import type { Breakdown } from './measures/breakdown';
import type { LatencyReport } from './measures/latency';
import type { TimelineSample } from './measures/timeline';
import { skippedFields } from './result-fields';
import type { Fingerprint } from './workloads/random-mixed';
import { workloadNamed } from './workloads/registry';
import { runDeclaredWorkload } from './workloads/run-declared';
import { RUNNING_NODE, currentRuntime } from './engines/engines';

// Kept here for the modules that build results through the runner.
export { measured, skippedFields, withHeapHint } from './result-fields';

export interface BenchResult {
  bench: BenchName;
  allocator: AllocatorName;
  /** hakmem's resolved preset, build and config hash; null for other allocators. */
  preset: string | null;
  build: string | null;
  /** hakmem's block alignment (1: the 1-byte header; 8, 16: header-free); null for other allocators. */
  align: number | null;
  configHash: string | null;
  /** The workload's parsed arguments (its `args` keys, or its own parser's shape). */
  args: BenchRequest['args'];
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
  /** replay: the trace's thread tags. */
  recordedThreads?: number;
  /**
   * replay of a multi-threaded trace: 'threads' (a thread per recorded thread, `threads` of them), or
   * 'serialized: ' and why (an allocator with no heap threads share); absent with --serial or one thread.
   */
  replayMode?: string;
  /** replay on threads: each recorded thread's ops per pass, own seconds over the timed passes, waits. */
  replayThreads?: import('./threads/replay-threads-run').ReplayThreadFigures[];
  /** replay on threads: frees of a block another thread made, per pass (from the trace). */
  crossThreadFrees?: number;
  /** replay on threads, hakmem: frees it routed to another thread's remote queue in the last timed pass. */
  remoteFrees?: number;
  /** replay: peakLiveBytes / peakFootprintBytes. */
  utilization?: number | null;
  footprintMethod?: string;
  /**
   * replay: the footprint pass's peak by the allocator's own statistics (native allocators; hakmem: its
   * tiers' peak), beside the resident figure; bytes null where it has none (method says why).
   */
  footprintByStats?: { bytes: number | null; method: string };
  /** replay: ns per op of the oracle, the same loop doing no allocator work (harnessMethod says how); null where it did not run. */
  harnessNsPerOp?: number | null;
  /** replay: ns per op less harnessNsPerOp: the allocator's own time. */
  allocatorNsPerOp?: number | null;
  /**
   * replay: the same two figures from the fastest timed pass of the allocator and of the oracle, the
   * steadier reading on a machine whose speed changes between passes (with --loops 1, one pass each).
   */
  harnessBestPassNsPerOp?: number | null;
  allocatorBestPassNsPerOp?: number | null;
  harnessMethod?: string;
  /** replay: the untimed passes before the timed ones (workloads/replay.ts warmUpPassCount: WARMUP_OPS ops). */
  warmupPasses?: number;
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

  const workload = workloadNamed(request.bench);
  const ctx = { request, base };
  return workload.run ? workload.run(ctx) : runDeclaredWorkload(workload, ctx);
}

/** A request that could not run at all (its engine is missing), as a skipped result. */
export function skippedResult(request: BenchRequest, engine: string, engineVersion: string, reason: string): BenchResult {
  const { bench, allocator, preset, build, align, args, threads } = request;
  return {
    bench, allocator, preset: preset ?? null, build: build ?? null, align: align ?? null, configHash: null, args, threads, engine, engineVersion,
    ...skippedFields(reason),
  };
}

/** The readable line, as the seed printed it: `random-mixed hakmem/current: Throughput = 49.1M ops/s (...)`. */
export function formatResultLine(r: BenchResult): string {
  const label = workloadNamed(r.bench).label;
  const what = label ? label(r.args as never) : r.bench;
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
        `allocator ${formatNs(r.allocatorNsPerOp * 1e-9)} + harness ${formatNs((r.harnessNsPerOp as number) * 1e-9)}` +
        (r.allocatorBestPassNsPerOp == null
          ? ''
          : ` (fastest pass: allocator ${formatNs(r.allocatorBestPassNsPerOp * 1e-9)} + harness ${formatNs((r.harnessBestPassNsPerOp as number) * 1e-9)})`) +
        (r.allocatorNsPerOp < 0 ? ' (allocator below zero: a difference of two noisy times, the oracle\'s passes slower than the allocator\'s; take more --loops)' : '');
  // A trace replayed on threads: wall time per op, each thread's ops, the frees that crossed threads.
  const onThreads = r.replayThreads
    ? `; per op ${formatNs((r.seconds as number) / (r.ops as number))} wall, ops per thread ` +
      `${r.replayThreads.map((t) => t.ops).join(' / ')}, cross-thread frees ${r.crossThreadFrees}` +
      (r.remoteFrees === undefined ? '' : ` (remote frees ${r.remoteFrees})`)
    : '';
  return (
    `${what} ${who}: Throughput = ${formatRate(r.opsPerSec as number)} ops/s ` +
    `(${r.ops} ops in ${(r.seconds as number).toFixed(2)} s${threads})${own}${onThreads}${memory}`
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
