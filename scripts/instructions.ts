/**
 * npm run instructions -- FILE [--preset P] [--allocator hakmem|system|both] [--loops-low A] [--loops-high B] [--json]
 * npm run instructions -- random-mixed WS SEED [--min A] [--max B] | fixed WS SEED --size N [--preset P] [--cycles-low A] [--cycles-high B] [--json]
 * Instructions per op of a trace replay (lib/bench/measures/instructions.ts), or per cycle of the tiny
 * path's loop (lib/bench/measures/instructions-loop.ts), counted by valgrind's callgrind.
 * Exit codes: 0 done, 1 failed (valgrind missing included), 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { isPresetName, PRESET_NAMES } from '../lib/index';
import {
  countReplayInstructions,
  REUSED_SEPARATOR,
  TOP_FUNCTIONS,
  type HakmemInstructions,
  type InstructionsReport,
  type SideName,
  type SystemInstructions,
} from '../lib/bench/measures/instructions';
import { checkLoopCycles, countLoopInstructions, type LoopInstructions, type LoopParams } from '../lib/bench/measures/instructions-loop';
import {
  CYCLES_BOUNDS,
  DEFAULT_MAX_SIZE,
  DEFAULT_MIN_SIZE,
  fixedWorkload,
  loopSizes,
  randomMixedWorkload,
  SEED_BOUNDS,
  WS_BOUNDS,
} from '../lib/bench/workloads/random-mixed.workload';
import { UsageError, whole } from '../lib/bench/workloads/workload-args';
import { runMain } from './run-main';

const DEFAULT_LOW = 2;
const DEFAULT_HIGH = 6;
const MAX_LOOPS = 1000;
/** The loop's measured cycles: about a minute a run under callgrind at the high count. */
const DEFAULT_CYCLES_LOW = 1_000_000;
const DEFAULT_CYCLES_HIGH = 6_000_000;
/** The benches whose loop the second form counts. */
const LOOPS = [randomMixedWorkload.name, fixedWorkload.name];

const USAGE = `usage: npm run instructions -- FILE [--preset P] [--allocator hakmem|system|both]
                                [--loops-low A] [--loops-high B] [--json]
       npm run instructions -- random-mixed WS SEED [--min A] [--max B] [--preset P]
                                [--cycles-low A] [--cycles-high B] [--json]
       npm run instructions -- fixed WS SEED --size N [--preset P]
                                [--cycles-low A] [--cycles-high B] [--json]

Counts the instructions per op of replaying the trace FILE (lib/bench/workloads/WORKLOADS.md
"replay") with valgrind's callgrind: the steadier reading of the bench's allocator-only time,
which moves between batches on a busy machine while the instruction count barely does.

  hakmem   the replay of a fresh heap and the replay of its oracle (the same loop handed back
           the heap's footprint-pass blocks, no allocator work), each in a node process of its
           own under callgrind, once with A and once with B timed passes; per op = (count at B
           - count at A) / (B - A) / ops, which cancels start-up, the footprint pass and the
           warm-up passes. "steady" keeps JIT code (JS functions and V8 builtins, named by V8's
           perf map) and libc's memset/memcpy/memmove, and leaves out V8's compiler, GC and
           runtime, which run at times of their own and make the total move from run to run
           (tens of instructions an op, at times more: read the total as a rough check only).
           allocator = the heap's steady count less the oracle's; the heap's ${TOP_FUNCTIONS}
           costliest functions (steady count) are listed. Code V8 made later can take the
           place of code it freed, and a count cannot tell whose its instructions were: such
           addresses are listed under every function that held them ("f${REUSED_SEPARATOR}g", the latest
           first).
  system   glibc malloc in the C replayer (scripts/native/replay.c, recorded order on one
           thread), callgrind collecting only inside allocator_pass, then only inside
           oracle_pass, with B timed passes; per op = collected / (1 + B) passes (the warm-up
           pass and the timed ones) / ops; allocator = their difference.

The second form counts the instructions per cycle of the tiny path's loop, as \`npm run bench --
random-mixed CYCLES WS SEED\` (or fixed) runs it on a hakmem heap: the loop under callgrind twice,
with A and with B measured cycles after the same warm-up run; per cycle = (steady count at B -
steady count at A) / (B - A). The loop's own work (its RNG, its slot array) is in the count, as in
the bench's time, and there is no oracle: the figure compares builds and presets on one loop. A
whole process's count, V8's compiler and GC included, can move by more than a build changes it; the
steady count does not. hakmem only (the C harness is not counted).

Each valgrind run takes from seconds to minutes (about 30 s for sqlite3-index's 508k ops, about a
minute for 6 million cycles of the loop); progress goes to stderr. Needs valgrind (Debian package
valgrind).

options:
  --preset NAME      hakmem preset: ${PRESET_NAMES.join(', ')} (default current)
  --allocator SIDE   hakmem, system or both (default both)
  --loops-low A      hakmem: timed passes of the first run of each side (default ${DEFAULT_LOW})
  --loops-high B     hakmem: timed passes of the second run; system: the C replayer's timed
                     passes (default ${DEFAULT_HIGH}; more than A)
  --min A, --max B   random-mixed's sizes (default ${DEFAULT_MIN_SIZE}..${DEFAULT_MAX_SIZE}, or HAKMEM_BENCH_MIN_SIZE /
                     HAKMEM_BENCH_MAX_SIZE, as the bench)
  --size N           fixed's size
  --cycles-low A     the loop's measured cycles in its first run (default ${DEFAULT_CYCLES_LOW}; at least
                     the warm-up run's, min(B, 200000))
  --cycles-high B    in its second run (default ${DEFAULT_CYCLES_HIGH}; more than A)
  --json             print one JSON object instead of the tables
  --help             this text
`;

const SIDES: Record<string, SideName[]> = { hakmem: ['hakmem'], system: ['system'], both: ['hakmem', 'system'] };

interface Command {
  kind: 'replay';
  file: string;
  preset: string;
  sides: SideName[];
  loopsLow: number;
  loopsHigh: number;
  json: boolean;
}

interface LoopCommand {
  kind: 'loop';
  loop: LoopParams;
  preset: string;
  cyclesLow: number;
  cyclesHigh: number;
  json: boolean;
}

/** The command line, checked; every mistake is a UsageError naming the argument. */
export function parseInstructionsArgs(argv: readonly string[]): Command | LoopCommand | { help: true } {
  const negative = argv.find((a) => /^-\d/.test(a));
  if (negative !== undefined) throw new UsageError(`arguments must not be negative, got '${negative}'`);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        preset: { type: 'string' },
        allocator: { type: 'string' },
        'loops-low': { type: 'string' },
        'loops-high': { type: 'string' },
        min: { type: 'string' },
        max: { type: 'string' },
        size: { type: 'string' },
        'cycles-low': { type: 'string' },
        'cycles-high': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) return { help: true };
  if (LOOPS.includes(positionals[0])) return parseLoopArgs(positionals, o);
  const loopOnly = (['min', 'max', 'size', 'cycles-low', 'cycles-high'] as const).find((k) => o[k] !== undefined);
  if (loopOnly !== undefined) throw new UsageError(`--${loopOnly} applies to the loops (${LOOPS.join(', ')}), not to a trace`);
  if (positionals.length !== 1) {
    throw new UsageError(`expected one trace FILE, got ${positionals.length}` + (positionals.length ? `: ${positionals.join(' ')}` : ''));
  }
  const allocator = o.allocator ?? 'both';
  if (!Object.hasOwn(SIDES, allocator)) throw new UsageError(`unknown --allocator '${allocator}' (expected hakmem, system or both)`);
  const sides = SIDES[allocator];
  const preset = o.preset ?? 'current';
  if (!isPresetName(preset)) throw new UsageError(`unknown preset '${preset}' (expected one of ${PRESET_NAMES.join(', ')})`);
  if (o.preset !== undefined && !sides.includes('hakmem')) throw new UsageError('--preset applies to the hakmem side only');
  const loopsLow = o['loops-low'] === undefined ? DEFAULT_LOW : whole('--loops-low', o['loops-low'], [0, MAX_LOOPS - 1]);
  const loopsHigh = o['loops-high'] === undefined ? DEFAULT_HIGH : whole('--loops-high', o['loops-high'], [1, MAX_LOOPS]);
  if (loopsHigh <= loopsLow) throw new UsageError(`--loops-high (${loopsHigh}) must be more than --loops-low (${loopsLow})`);
  return { kind: 'replay', file: positionals[0], preset, sides, loopsLow, loopsHigh, json: o.json ?? false };
}

/** The second form: random-mixed WS SEED or fixed WS SEED --size N, hakmem only. */
function parseLoopArgs(positionals: string[], o: Record<string, string | boolean | undefined>): LoopCommand {
  const [bench, ...rest] = positionals;
  if (rest.length !== 2) throw new UsageError(`${bench} takes 2 arguments (WS SEED), got ${rest.length}` + (rest.length ? `: ${rest.join(' ')}` : ''));
  const misplaced = (['loops-low', 'loops-high'] as const).find((k) => o[k] !== undefined);
  if (misplaced !== undefined) throw new UsageError(`--${misplaced} applies to a trace; a loop takes --cycles-low and --cycles-high`);
  if (o.allocator !== undefined && o.allocator !== 'hakmem') throw new UsageError(`the loop is counted on hakmem only, got --allocator ${String(o.allocator)}`);
  const fixed = bench === fixedWorkload.name;
  if (fixed && (o.min !== undefined || o.max !== undefined)) throw new UsageError('fixed takes --size, not --min or --max');
  if (!fixed && o.size !== undefined) throw new UsageError('random-mixed takes --min and --max, not --size (fixed takes --size)');
  const { min, max } = loopSizes(fixed, { min: o.min, max: o.max, size: o.size }, process.env);
  const preset = (o.preset as string | undefined) ?? 'current';
  if (!isPresetName(preset)) throw new UsageError(`unknown preset '${preset}' (expected one of ${PRESET_NAMES.join(', ')})`);
  const cyclesLow = o['cycles-low'] === undefined ? DEFAULT_CYCLES_LOW : whole('--cycles-low', o['cycles-low'] as string, [1, CYCLES_BOUNDS[1] - 1]);
  const cyclesHigh = o['cycles-high'] === undefined ? DEFAULT_CYCLES_HIGH : whole('--cycles-high', o['cycles-high'] as string, [2, CYCLES_BOUNDS[1]]);
  if (cyclesHigh <= cyclesLow) throw new UsageError(`--cycles-high (${cyclesHigh}) must be more than --cycles-low (${cyclesLow})`);
  try {
    checkLoopCycles(cyclesLow, cyclesHigh);
  } catch (e) {
    throw new UsageError(`--cycles-low ${cyclesLow} and --cycles-high ${cyclesHigh}: ${(e as Error).message}`);
  }
  const loop = { ws: whole('WS', rest[0], WS_BOUNDS), seed: whole('SEED', rest[1], SEED_BOUNDS), min, max };
  return { kind: 'loop', loop, preset, cyclesLow, cyclesHigh, json: (o.json as boolean | undefined) ?? false };
}

const f1 = (n: number) => n.toFixed(1);

function table(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
}

function formatHakmem(h: HakmemInstructions): string {
  return [
    `${h.trace}: hakmem (preset ${h.preset}, build ${h.heap.build}, align ${h.heap.align}), ${h.ops} ops a pass, ` +
      `runs of ${h.loops.low} and ${h.loops.high} timed passes; instructions per op`,
    ...table(
      ['', 'steady', 'total'],
      [
        ['heap', f1(h.allocatorRun.steadyPerOp), f1(h.allocatorRun.totalPerOp)],
        ['oracle', f1(h.oracleRun.steadyPerOp), f1(h.oracleRun.totalPerOp)],
        ['allocator', f1(h.allocatorPerOp), f1(h.allocatorTotalPerOp)],
      ],
    ).map((l) => '  ' + l),
    totalNote(
      h.allocatorRun.totalPerOp < h.allocatorRun.steadyPerOp || h.oracleRun.totalPerOp < h.oracleRun.steadyPerOp,
      `${h.loops.low} timed passes`,
      `${h.loops.high}`,
    ),
    `  the heap run's steady count by function (per op):`,
    ...h.top.map((t) => `  ${f1(t.perOp).padStart(8)}  ${t.name}`),
  ].join('\n');
}

/**
 * What a total is. The steady count is part of a run's total, so a total below it (`belowSteady`) says
 * that V8's own work landed more in the shorter run than in the longer.
 */
function totalNote(belowSteady: boolean, shorterRun: string, longerRun: string): string {
  const note = "  (total: every instruction, V8's compiler, GC and runtime included; it moves from run to run)";
  if (!belowSteady) return note;
  return (
    `${note}\n  (a total below its steady count: V8 did more of its own work in the run of ${shorterRun} ` +
    `than in the run of ${longerRun}; it says nothing of the allocator)`
  );
}

function formatSystem(s: SystemInstructions): string {
  return [
    `${s.trace}: glibc (system) in the C replayer, ${s.ops} ops a pass, 1 + ${s.loops} passes; instructions per op`,
    ...table(
      ['', 'Ir'],
      [
        ['allocator_pass', f1(s.allocatorPassPerOp)],
        ['oracle_pass', f1(s.oraclePassPerOp)],
        ['allocator', f1(s.allocatorPerOp)],
      ],
    ).map((l) => '  ' + l),
  ].join('\n');
}

export function formatInstructions(r: InstructionsReport): string {
  return r.sides.map((s) => (s.side === 'hakmem' ? formatHakmem(s) : formatSystem(s))).join('\n\n') + '\n';
}

export function formatLoopInstructions(l: LoopInstructions): string {
  return [
    `${l.workload}: hakmem (preset ${l.preset}, build ${l.heap.build}, align ${l.heap.align}), runs of ${l.cycles.low} and ` +
      `${l.cycles.high} measured cycles; instructions per cycle, the loop's own included`,
    `  steady ${f1(l.steadyPerCycle)}, total ${f1(l.totalPerCycle)}`,
    totalNote(l.totalPerCycle < l.steadyPerCycle, `${l.cycles.low} measured cycles`, `${l.cycles.high}`),
    `  the steady count by function (per cycle):`,
    ...l.top.map((t) => `  ${f1(t.perOp).padStart(8)}  ${t.name}`),
  ].join('\n') + '\n';
}

async function main(): Promise<number> {
  let command;
  try {
    command = parseInstructionsArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`instructions: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if ('help' in command) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = Date.now();
  const progress = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] valgrind: ${m}\n`);
  if (command.kind === 'loop') {
    const { loop, preset, cyclesLow, cyclesHigh } = command;
    const counted = await countLoopInstructions(loop, { preset, cyclesLow, cyclesHigh, progress });
    process.stdout.write(command.json ? JSON.stringify(counted) + '\n' : formatLoopInstructions(counted));
    return 0;
  }
  const report = await countReplayInstructions(command.file, {
    sides: command.sides,
    preset: command.preset,
    loopsLow: command.loopsLow,
    loopsHigh: command.loopsHigh,
    progress,
  });
  process.stdout.write(command.json ? JSON.stringify(report) + '\n' : formatInstructions(report));
  return 0;
}

if (require.main === module) runMain('instructions', main);
