/**
 * The measured or skipped fields of a BenchResult, and the heap hint on an out-of-memory error:
 * what every workload's run (lib/bench/workloads/*.workload.ts) and the runner build results from.
 */
import type { HakmemConfig } from './adapters/index';
import type { LoopResult } from './workloads/random-mixed';

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
