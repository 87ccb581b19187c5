/**
 * Instructions per cycle of random-mixed's loop (fixed's is the same loop with one size) on a hakmem
 * heap, counted by valgrind's callgrind: the second reading of the tiny path's speed beside the
 * bench's wall clock, which moves by a few per cent between fresh processes on a busy machine.
 *
 * instructions-loop-run.ts runs under callgrind twice, with LOW and with HIGH measured cycles after
 * the same warm-up run; per cycle = (count at HIGH - count at LOW) / (HIGH - LOW), which cancels
 * start-up and the warm-up. The steady count is instructions.ts's (JIT code and libc's memset, memcpy
 * and memmove). A whole process's count also holds V8's compiler, GC and runtime, whose work does not
 * scale with the cycles: it read random-mixed 13% apart on two builds whose JIT code did the same work
 * to 0.4% (docs/footprint.md). The loop's own work (its RNG, its slot array) is in the count, as in the
 * bench's time: the figure compares builds and presets on one loop, not an allocator alone against
 * another. hakmem only; the C harness is not counted.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkedRandomMixedReplay } from '../workloads/random-mixed-replay';
import { warmupCycles } from '../workloads/random-mixed';
import type { LoopLine } from './instructions-loop-run';
import { checkValgrind, jitRun, plainRun, topFunctions, type FunctionCost } from './instructions';

export const LOOP_INSTRUCTIONS_METHOD =
  "valgrind callgrind's Ir of random-mixed's loop on a hakmem heap: (steady count at HIGH measured cycles - at LOW) / " +
  "(HIGH - LOW), steady = JIT code (V8's perf map) and libc's memset/memcpy/memmove; the loop's own work included";

/** The loop's parameters but its cycles: WS slots, the RNG's SEED, sizes MIN..MAX (fixed: MIN = MAX). */
export interface LoopParams {
  ws: number;
  seed: number;
  min: number;
  max: number;
}

export interface LoopInstructionsOptions {
  preset: string;
  /** Measured cycles of the two runs. */
  cyclesLow: number;
  cyclesHigh: number;
  /** Told before each run starts. */
  progress?: (message: string) => void;
}

export interface LoopInstructions {
  side: 'hakmem';
  /** As the bench names it: `random-mixed WS SEED` with its sizes, or `fixed WS SEED` with its size. */
  workload: string;
  method: string;
  preset: string;
  /** The heap's resolved configuration, as the child created it. */
  heap: LoopLine['heap'];
  cycles: { low: number; high: number };
  /** Every instruction, per cycle: V8's compiler, GC and runtime included (a rough check only). */
  totalPerCycle: number;
  steadyPerCycle: number;
  /** The steady count by function, the largest first. */
  top: FunctionCost[];
}

const ENTRY = path.join(__dirname, 'instructions-loop-run.ts');

/** The bench's name for the loop of `p`. */
export function loopName(p: LoopParams): string {
  return p.min === p.max ? `fixed ${p.ws} ${p.seed} --size ${p.min}` : `random-mixed ${p.ws} ${p.seed} --min ${p.min} --max ${p.max}`;
}

/** Throws unless runs of `low` and `high` measured cycles differ by their measured cycles alone (the same warm-up). */
export function checkLoopCycles(low: number, high: number): void {
  if (!(Number.isInteger(low) && Number.isInteger(high) && low >= 1 && high > low)) {
    throw new Error(`the measured cycles must be whole numbers with 1 <= low < high, got ${low} and ${high}`);
  }
  if (warmupCycles(low) !== warmupCycles(high)) {
    throw new Error(
      `the run of ${low} cycles would warm up for ${warmupCycles(low)} cycles and the run of ${high} for ` +
        `${warmupCycles(high)}: the low run needs at least ${warmupCycles(high)} cycles for the difference to cancel the warm-up`,
    );
  }
}

/** The counts of the loop `p`; its parameters and both runs' warm-ups are checked before valgrind runs. */
export async function countLoopInstructions(p: LoopParams, o: LoopInstructionsOptions): Promise<LoopInstructions> {
  const { cyclesLow: low, cyclesHigh: high } = o;
  checkLoopCycles(low, high);
  if (!(p.ws >= 1 && p.min >= 1 && p.max >= p.min)) throw new Error(`need WS >= 1 and 1 <= MIN <= MAX, got ${JSON.stringify(p)}`);
  await checkValgrind();
  const name = loopName(p);
  const argsFor = (cycles: number) => [o.preset, String(cycles), String(p.ws), String(p.seed), String(p.min), String(p.max)];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hakmem-instructions-'));
  try {
    // Once without valgrind first (one cycle is enough): ts-node transpiles what changed then, not in a counted run.
    o.progress?.(`${name}: hakmem (${o.preset}), a run without valgrind first`);
    await plainRun(ENTRY, argsFor(1));
    const counted = async (cycles: number, k: number) => {
      o.progress?.(`${name}: hakmem (${o.preset}), ${cycles} measured cycles (${k} of 2)`);
      const r = await jitRun<LoopLine>(dir, ENTRY, argsFor(cycles));
      if (r.transpiled) throw new Error('ts-node transpiled a source file during a counted run: a source changed while it ran; run again');
      checkedRandomMixedReplay(cycles, p.ws, p.seed, p.min, p.max, r.line.fingerprint, `hakmem's run of ${cycles} cycles`);
      return r;
    };
    const a = await counted(low, 1);
    const b = await counted(high, 2);
    return {
      side: 'hakmem',
      workload: name,
      method: LOOP_INSTRUCTIONS_METHOD,
      preset: o.preset,
      heap: b.line.heap,
      cycles: { low, high },
      totalPerCycle: (b.count.total - a.count.total) / (high - low),
      steadyPerCycle: (b.count.steady - a.count.steady) / (high - low),
      top: topFunctions(a.count.byFunction, b.count.byFunction, high - low),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
