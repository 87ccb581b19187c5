/**
 * npm run instructions -- FILE [--preset P] [--allocator hakmem|system|both] [--loops-low A] [--loops-high B] [--json]
 * Instructions per op of a trace replay, counted by valgrind's callgrind (lib/bench/measures/instructions.ts).
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
import { UsageError, whole } from '../lib/bench/workloads/workload-args';
import { runMain } from './run-main';

const DEFAULT_LOW = 2;
const DEFAULT_HIGH = 6;
const MAX_LOOPS = 1000;

const USAGE = `usage: npm run instructions -- FILE [--preset P] [--allocator hakmem|system|both]
                                [--loops-low A] [--loops-high B] [--json]

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

Each valgrind run takes from seconds to minutes (about 30 s for sqlite3-index's 508k ops);
progress goes to stderr. Needs valgrind (Debian package valgrind).

options:
  --preset NAME      hakmem preset: ${PRESET_NAMES.join(', ')} (default current)
  --allocator SIDE   hakmem, system or both (default both)
  --loops-low A      hakmem: timed passes of the first run of each side (default ${DEFAULT_LOW})
  --loops-high B     hakmem: timed passes of the second run; system: the C replayer's timed
                     passes (default ${DEFAULT_HIGH}; more than A)
  --json             print one JSON object instead of the tables
  --help             this text
`;

const SIDES: Record<string, SideName[]> = { hakmem: ['hakmem'], system: ['system'], both: ['hakmem', 'system'] };

interface Command {
  file: string;
  preset: string;
  sides: SideName[];
  loopsLow: number;
  loopsHigh: number;
  json: boolean;
}

/** The command line, checked; every mistake is a UsageError naming the argument. */
export function parseInstructionsArgs(argv: readonly string[]): Command | { help: true } {
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
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) return { help: true };
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
  return { file: positionals[0], preset, sides, loopsLow, loopsHigh, json: o.json ?? false };
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
    totalNote(h),
    `  the heap run's steady count by function (per op):`,
    ...h.top.map((t) => `  ${f1(t.perOp).padStart(8)}  ${t.name}`),
  ].join('\n');
}

/**
 * What the total column is. The steady count is part of a run's total, so a total below it says that
 * V8's own work landed more in the shorter run than in the longer.
 */
function totalNote(h: HakmemInstructions): string {
  const note = "  (total: every instruction, V8's compiler, GC and runtime included; it moves from run to run)";
  if (h.allocatorRun.totalPerOp >= h.allocatorRun.steadyPerOp && h.oracleRun.totalPerOp >= h.oracleRun.steadyPerOp) return note;
  return (
    `${note}\n  (a total below its steady count: V8 did more of its own work in the run of ${h.loops.low} timed passes ` +
    `than in the run of ${h.loops.high}; it says nothing of the allocator)`
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
  const report = await countReplayInstructions(command.file, {
    sides: command.sides,
    preset: command.preset,
    loopsLow: command.loopsLow,
    loopsHigh: command.loopsHigh,
    progress: (m) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] valgrind: ${m}\n`),
  });
  process.stdout.write(command.json ? JSON.stringify(report) + '\n' : formatInstructions(report));
  return 0;
}

if (require.main === module) runMain('instructions', main);
