/**
 * Checking a workload's command-line arguments: every mistake is a UsageError naming the argument,
 * its bounds and what was given (scripts/bench.ts prints it with the usage and exits 2). Kept apart
 * from the registry so that workload files can use it without importing every other workload.
 */
import { hasSharedHeap, isWasmAllocator, type AllocatorName } from '../adapters/allocators';
import type { ArgSpec } from './workload';

export class UsageError extends Error {
  readonly exitCode = 2;
}

/** A whole decimal number within [lo, hi], else a UsageError naming `name`. */
export function whole(name: string, text: string, [lo, hi]: readonly [number, number]): number {
  if (!/^\d+$/.test(text) || Number(text) < lo || Number(text) > hi) {
    throw new UsageError(`${name} must be a whole number from ${lo} to ${hi}, got '${text}'`);
  }
  return Number(text);
}

/** A decimal number above 0 and at most `hi` (larson's SECONDS). */
export function positiveDecimal(name: string, text: string, hi: number): number {
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(v > 0 && v <= hi)) {
    throw new UsageError(`${name} must be a number above 0 and at most ${hi}, got '${text}'`);
  }
  return v;
}

/** Exactly `names.length` positionals, else a UsageError listing them. */
export function expectCount(bench: string, got: readonly string[], names: readonly string[]): void {
  if (got.length !== names.length) {
    throw new UsageError(
      `${bench} takes ${names.length} arguments (${names.join(' ')}), got ${got.length}` +
        (got.length ? `: ${got.join(' ')}` : ''),
    );
  }
}

/** The positional form a workload's args print as in the usage: `THREADS [ROUNDS]` (optional ones bracketed). */
export function synopsisOf(specs: readonly ArgSpec[]): string {
  return specs.map((s) => (s.default === undefined ? s.name : `[${s.name}]`)).join(' ');
}

/**
 * Positionals read by their specs, in order: a missing one takes its default (every spec after the
 * first with a default has one too), extra ones are an error; each is checked against its bounds.
 */
export function parsePositionals(bench: string, specs: readonly ArgSpec[], got: readonly string[]): Record<string, number> {
  const required = specs.filter((s) => s.default === undefined).length;
  if (got.length < required || got.length > specs.length) {
    const count = required === specs.length ? `${specs.length}` : `${required} to ${specs.length}`;
    throw new UsageError(
      `${bench} takes ${count} arguments (${synopsisOf(specs)}), got ${got.length}` + (got.length ? `: ${got.join(' ')}` : ''),
    );
  }
  const args: Record<string, number> = {};
  specs.forEach((s, i) => {
    const text = got[i];
    args[s.key] = text === undefined ? (s.default as number) : whole(s.name, text, [s.min, s.max]);
  });
  return args;
}

/** Threads need a heap that workers share: hakmem's shared heap or a native allocator. */
export function checkThreads(allocator: AllocatorName, threads: number, what: string): void {
  if (threads > 1 && !hasSharedHeap(allocator)) {
    const build = isWasmAllocator(allocator) ? ': no shared-memory build' : '';
    throw new UsageError(
      `${what} needs an allocator whose heap worker threads can share: ` +
        `hakmem or a native one (${allocator} has no shared heap${build})`,
    );
  }
}
