/**
 * Runs a workload that declares its parts (workload.ts) instead of running itself: on a native
 * allocator its C harness, on hakmem its threaded run on one shared heap (or its single-threaded
 * one), on the other in-process allocators its single-threaded run. Every run's fingerprint is
 * checked against the one the workload computes from its arguments.
 */
import { createTsAllocator } from '../adapters/index';
import { isNativeAllocator, type TsAllocatorName } from '../adapters/allocators';
import { isSkipped, runNative } from '../native/run-native';
import { measured, skippedFields, withHeapHint } from '../result-fields';
import type { BenchResult } from '../runner';
import type { Fingerprint, LoopResult } from './random-mixed';
import type { RunContext, Workload } from './workload';

export async function runDeclaredWorkload(w: Workload, { request, base }: RunContext): Promise<BenchResult> {
  const { allocator } = request;
  const args = request.args as Record<string, number>;
  if (isNativeAllocator(allocator)) {
    if (!w.native) return { ...base(null), ...skippedFields(`${w.name} has no C harness`) };
    const r = await runNative(allocator, w.native.harness, w.native.argv(args));
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    checkFingerprint(w, args, allocator, r);
    // A harness that measures its memory prints its peak resident growth (scripts/native/resident.h).
    const peak = typeof r.line.peakResidentBytes === 'number' ? r.line.peakResidentBytes : null;
    return { ...base(null), ...measured(r, null, peak) };
  }
  const why = tsUnavailable(w, allocator);
  if (why !== null) return { ...base(null), ...skippedFields(why) };
  const heapOptions = { preset: request.preset, build: request.build, align: request.align };
  const ts = w.ts!;
  if (ts.kind === 'threads') {
    const { runWorkloadThreads } = await import('../threads/run-workload-threads');
    const r = await runWorkloadThreads(w, heapOptions, args, request.threads);
    checkFingerprint(w, args, allocator, r);
    const h = { preset: r.stats.preset, build: r.stats.build, align: r.stats.align, configHash: r.stats.configHash };
    return { ...base(h), ...measured(r, null, r.stats.residentBytes) };
  }
  const t = await createTsAllocator(allocator as TsAllocatorName, { ...heapOptions, ...ts.sizing(args) });
  const r = withHeapHint(t.hakmem, () => ts.run(t.allocator, args));
  checkFingerprint(w, args, allocator, r);
  return { ...base(t.hakmem), ...measured(r, null, t.peakHeapBytes()) };
}

/**
 * Why the workload's TypeScript run cannot use this in-process allocator, or null: a threaded run
 * needs hakmem's shared heap; a workload without a TypeScript run has only its C harness.
 */
export function tsUnavailable(w: Workload, allocator: TsAllocatorName): string | null {
  if (!w.ts) return `${w.name} has no TypeScript run (only its C harness, on the native allocators)`;
  if (w.ts.kind === 'threads' && allocator !== 'hakmem') {
    return `${w.name} runs on threads sharing one heap: ${allocator} has no heap worker threads can share`;
  }
  return null;
}

/** A run whose fingerprint is not the workload's did other work than specified: an error, never a row. */
function checkFingerprint(w: Workload, args: Record<string, number>, allocator: string, r: LoopResult): void {
  if (!w.fingerprint) return;
  const want: Fingerprint = w.fingerprint(args);
  const got = r.fingerprint;
  if (got.mallocs !== want.mallocs || got.frees !== want.frees || got.bytes !== want.bytes || got.hash !== want.hash) {
    throw new Error(
      `${w.name} on ${allocator}: the run's fingerprint ${JSON.stringify(got)} differs from the workload's ` +
        `${JSON.stringify(want)}: the harness did not do the specified work`,
    );
  }
}
