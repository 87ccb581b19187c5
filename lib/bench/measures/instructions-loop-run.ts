/**
 * The child process instructions-loop.ts counts under callgrind: random-mixed's loop (fixed's is the
 * same loop with one size) on a fresh hakmem heap, as `npm run bench -- random-mixed` runs it (its
 * warm-up run, then CYCLES measured cycles), nothing else. Started as
 *
 *   node ... instructions-loop-run.ts PRESET CYCLES WS SEED MIN MAX
 *
 * Prints one JSON line: the measured run's ops and fingerprint, for the parent to check against the
 * loop's replay, and the heap's configuration.
 */
import { createHeap, isPresetName } from '../../index';
import { HakmemAllocator } from '../adapters/hakmem';
import { benchRandomMixed, type Fingerprint } from '../workloads/random-mixed';

export interface LoopLine {
  ops: number;
  fingerprint: Fingerprint;
  heap: { build: string; align: number; configHash: string };
}

function main(argv: readonly string[]): LoopLine {
  const [preset, ...numbers] = argv;
  const [cycles, ws, seed, min, max] = numbers.map(Number);
  if (argv.length !== 6 || !isPresetName(preset) || !numbers.every((n) => /^\d+$/.test(n)) || !(ws >= 1 && min >= 1 && max >= min)) {
    throw new Error(`usage: instructions-loop-run.ts PRESET CYCLES WS SEED MIN MAX, got ${argv.join(' ')}`);
  }
  const heap = createHeap({ preset });
  const r = benchRandomMixed(new HakmemAllocator(heap), cycles, ws, seed, min, max);
  return { ops: r.ops, fingerprint: r.fingerprint, heap: { build: heap.config.build, align: heap.config.align, configHash: heap.configHash } };
}

if (require.main === module) {
  try {
    process.stdout.write(JSON.stringify(main(process.argv.slice(2))) + '\n');
  } catch (e) {
    process.stderr.write(`instructions-loop-run: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
