/**
 * npm run instructions: the callgrind file and perf map parsing on hand-written files (always), the
 * table's note on a total below its steady count, the command line's errors (both forms), a run of
 * both sides on a small trace and a run of fixed's loop (skipped where valgrind is missing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  collectedInstructions,
  countInstructions,
  parsePerfMap,
  REUSED_SEPARATOR,
  type HakmemInstructions,
  type InstructionsReport,
  type SystemInstructions,
} from '../lib/bench/measures/instructions';
import { randomMixedTrace } from '../lib/bench/workloads/random-mixed-trace';
import { writeTrace } from '../lib/trace/write';
import type { LoopInstructions } from '../lib/bench/measures/instructions-loop';
import { createHeap } from '../lib/index';
import { formatInstructions, formatLoopInstructions, parseInstructionsArgs } from '../scripts/instructions';

const ROOT = path.resolve(__dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'instructions.ts');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-instructions-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function instructions(args: string[]) {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
}

// Two tiers of one function (f), a builtin, a later entry over part of an older one (code the GC
// freed, its place taken), and an address no entry covers.
const PERF_MAP = [
  `1000 100 JS:*f ${ROOT}/lib/a.ts:1:1`,
  `1100 50 JS:~f ${ROOT}/lib/a.ts:1:1`,
  '2000 100 Builtin:LoadIC',
  '3000 100 JS:~old x.js:1:1',
  '3000 40 JS:^new y.js:2:2',
  'not a line',
].join('\n');

const CALLGRIND = `# callgrind format
version: 1
positions: instr line
events: Ir
summary: 158


ob=/usr/bin/node
fl=???
fn=0x0000000000001000
0x1000 0 5
0x1010 0 7
cfn=0x0000000000002000
calls=1 0x2000 0
0x1018 0 1000
0x1018 0 3
0x1120 0 11
fn=Builtins_LoadIC
0x2050 0 13
fn=0x0000000000003000
0x3010 0 17
0x3050 0 19
ob=/usr/lib/x86_64-linux-gnu/libc.so.6
fn=__memcpy_avx_unaligned_erms
0x1010 0 23
fn=malloc
0x1050 0 29
ob=/usr/bin/node
fn=v8::internal::Heap::CollectGarbage
0x900 0 31

totals: 158
`;

describe('callgrind and perf map parsing', () => {
  test('a perf map: the entries covering an address name it, the latest first; tier markers and the project folder dropped', () => {
    const m = parsePerfMap(PERF_MAP, ROOT);
    assert.equal(m.nameAt(0x1000), 'JS:f lib/a.ts:1:1');
    assert.equal(m.nameAt(0x1149), 'JS:f lib/a.ts:1:1');
    assert.equal(m.nameAt(0x1150), null);
    assert.equal(m.nameAt(0x2099), 'Builtin:LoadIC');
    // new took the place of old's first bytes: their count cannot tell whose it was.
    assert.equal(m.nameAt(0x3000), `JS:new y.js:2:2${REUSED_SEPARATOR}JS:old x.js:1:1`);
    assert.equal(m.nameAt(0x303f), `JS:new y.js:2:2${REUSED_SEPARATOR}JS:old x.js:1:1`);
    assert.equal(m.nameAt(0x3040), 'JS:old x.js:1:1');
    assert.equal(m.nameAt(0x30ff), 'JS:old x.js:1:1');
    assert.equal(m.nameAt(0x3100), null);
    assert.equal(m.nameAt(0xfff), null);
  });

  test('a callgrind file: every cost line in the total, JIT code and libc memcpy in the steady count, calls= inclusive costs skipped', () => {
    const c = countInstructions(CALLGRIND, parsePerfMap(PERF_MAP, ROOT));
    // 5 + 7 + 3 + 11 + 13 + 17 + 19 + 23 + 29 + 31: not the 1000 after calls=, which the summary confirms.
    assert.equal(c.total, 158);
    // f's two tiers 5 + 7 + 3 + 11, LoadIC 13, new 17, old 19, memcpy 23 (its address is libc's, not the map's)
    assert.equal(c.steady, 98);
    assert.deepEqual(
      Object.fromEntries(c.byFunction),
      {
        'JS:f lib/a.ts:1:1': 26,
        'Builtin:LoadIC': 13,
        [`JS:new y.js:2:2${REUSED_SEPARATOR}JS:old x.js:1:1`]: 17,
        'JS:old x.js:1:1': 19,
        __memcpy_avx_unaligned_erms: 23,
      },
    );
    assert.equal(collectedInstructions(CALLGRIND), 158);
  });

  test('a file whose cost lines do not sum to its summary is refused', () => {
    assert.throws(() => countInstructions(CALLGRIND.replace('summary: 158', 'summary: 1158'), parsePerfMap('')), /sum to 158, its summary says 1158/);
  });
});

describe('npm run instructions: the table', () => {
  const report = (heapTotal: number): InstructionsReport => ({
    trace: 'gs-pages',
    method: 'callgrind',
    sides: [
      {
        side: 'hakmem',
        trace: 'gs-pages',
        ops: 191847,
        preset: 'current',
        heap: { build: 'release', align: 1, configHash: 'b6d8138d' },
        loops: { low: 2, high: 6 },
        allocatorRun: { totalPerOp: heapTotal, steadyPerOp: 301.5 },
        oracleRun: { totalPerOp: 163.9, steadyPerOp: 166.4 },
        allocatorPerOp: 135.0,
        allocatorTotalPerOp: heapTotal - 163.9,
        top: [{ name: 'JS:mallocSlow lib/alloc/heap.ts:1:1', perOp: 53.3 }],
      },
    ],
  });

  test('a total below its steady count says why, with the two runs named; a total above it does not', () => {
    const low = formatInstructions(report(-614.2));
    assert.match(low, /heap\s+301\.5\s+-614\.2/);
    assert.match(low, /a total below its steady count: V8 did more of its own work in the run of 2 timed passes than in the run of 6; it says nothing of the allocator/);
    assert.match(low, /oracle\s+166\.4\s+163\.9/, 'the oracle run is below by a few instructions');
    const ok = formatInstructions({ ...report(320.0), sides: [{ ...(report(320.0).sides[0] as HakmemInstructions), oracleRun: { totalPerOp: 170.0, steadyPerOp: 166.4 } }] });
    assert.doesNotMatch(ok, /below its steady count/);
    assert.match(ok, /it moves from run to run/);
    assert.match(ok, /53\.3  JS:mallocSlow/);
  });
});

describe('npm run instructions: command line', () => {
  test('a missing trace is named, exit 1', () => {
    const r = instructions([path.join(scratch, 'no-such.trace.gz')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no-such\.trace\.gz: no such file/);
  });

  test('an unknown preset, allocator or loop count is named with the usage, exit 2', () => {
    const trace = path.join(ROOT, 'data', 'traces', 'sqlite3-index.trace.gz');
    for (const [args, message] of [
      [['--preset', 'bogus'], /unknown preset 'bogus' \(expected one of .*current/],
      [['--allocator', 'jemalloc'], /unknown --allocator 'jemalloc' \(expected hakmem, system or both\)/],
      [['--loops-low', '4', '--loops-high', '3'], /--loops-high \(3\) must be more than --loops-low \(4\)/],
      [['--loops-high', 'x'], /--loops-high must be a whole number from 1 to 1000, got 'x'/],
      [['--allocator', 'system', '--preset', 'current'], /--preset applies to the hakmem side only/],
    ] as const) {
      const r = instructions([trace, ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run instructions/);
    }
    const none = instructions([]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /expected one trace FILE, got 0/);
  });
});

describe("npm run instructions: the loop form's command line", () => {
  test('random-mixed and fixed take WS SEED, their sizes and the measured cycles, on hakmem', () => {
    assert.deepEqual(parseInstructionsArgs(['random-mixed', '400', '1']), {
      kind: 'loop',
      loop: { ws: 400, seed: 1, min: 16, max: 1024 },
      preset: 'current',
      cyclesLow: 1_000_000,
      cyclesHigh: 6_000_000,
      json: false,
    });
    const fixed = parseInstructionsArgs(['fixed', '64', '7', '--size', '256', '--preset', 'compact', '--cycles-low', '200000', '--cycles-high', '300000', '--json']);
    assert.deepEqual(fixed, { kind: 'loop', loop: { ws: 64, seed: 7, min: 256, max: 256 }, preset: 'compact', cyclesLow: 200_000, cyclesHigh: 300_000, json: true });
    assert.deepEqual((parseInstructionsArgs(['random-mixed', '8', '0', '--min', '512']) as { loop: unknown }).loop, { ws: 8, seed: 0, min: 512, max: 1024 });
  });

  test('each mistake is named, and the trace form refuses the loop options', () => {
    for (const [args, message] of [
      [['fixed', '400', '1'], /^fixed needs --size N$/],
      [['random-mixed', '400'], /^random-mixed takes 2 arguments \(WS SEED\), got 1: 400$/],
      [['fixed', '400', '1', '--size', '64', '--min', '8'], /^fixed takes --size, not --min or --max$/],
      [['random-mixed', '400', '1', '--size', '64'], /not --size \(fixed takes --size\)/],
      [['random-mixed', '400', '1', '--min', '100', '--max', '99'], /^--max must be a whole number from 100 to \d+, got '99'$/],
      [['random-mixed', '400', '1', '--min', '2048'], /^HAKMEM_BENCH_MAX_SIZE must be a whole number from 2048 to \d+, got '1024'$/],
      [['random-mixed', '0', '1'], /^WS must be a whole number from 1 to \d+, got '0'$/],
      [['random-mixed', '400', '1', '--allocator', 'system'], /^the loop is counted on hakmem only, got --allocator system$/],
      [['random-mixed', '400', '1', '--loops-high', '9'], /^--loops-high applies to a trace; a loop takes --cycles-low and --cycles-high$/],
      [['random-mixed', '400', '1', '--cycles-low', '5', '--cycles-high', '5'], /^--cycles-high \(5\) must be more than --cycles-low \(5\)$/],
      [
        ['random-mixed', '400', '1', '--cycles-low', '1000', '--cycles-high', '300000'],
        /^--cycles-low 1000 and --cycles-high 300000: the run of 1000 cycles would warm up for 1000 cycles and the run of 300000 for 200000: the low run needs at least 200000 cycles/,
      ],
      [['some.trace', '--cycles-low', '3'], /^--cycles-low applies to the loops \(random-mixed, fixed\), not to a trace$/],
    ] as const) {
      assert.throws(() => parseInstructionsArgs(args), (e: Error) => message.test(e.message), `${args.join(' ')}`);
    }
  });

  test('the table names the loop, the runs and the costliest functions', () => {
    const l: LoopInstructions = {
      side: 'hakmem',
      workload: 'fixed 400 1 --size 64',
      method: 'callgrind',
      preset: 'current',
      heap: { build: 'release', align: 1, configHash: '8df8f290' },
      cycles: { low: 1_000_000, high: 6_000_000 },
      totalPerCycle: 180.2,
      steadyPerCycle: 195.1,
      top: [{ name: 'JS:runCycles lib/bench/workloads/random-mixed.ts:37:19', perOp: 194.5 }],
    };
    const text = formatLoopInstructions(l);
    assert.match(text, /^fixed 400 1 --size 64: hakmem \(preset current, build release, align 1\), runs of 1000000 and 6000000 measured cycles/);
    assert.match(text, /steady 195\.1, total 180\.2\n  \(total: every instruction, .* it moves from run to run\)\n  \(a total below its steady count: V8 did more of its own work in the run of 1000000 measured cycles than in the run of 6000000; it says nothing of the allocator\)/);
    assert.doesNotMatch(formatLoopInstructions({ ...l, totalPerCycle: 200 }), /below its steady count/);
    assert.match(text, /194\.5  JS:runCycles lib\/bench\/workloads\/random-mixed\.ts:37:19/);
  });
});

const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
const noValgrind = valgrind.error || valgrind.status !== 0 ? 'valgrind is not installed: nothing to count instructions with' : null;

describe('npm run instructions: a run', () => {
  test('both sides on a small trace: heap above oracle above 0, allocator figures positive', async (t) => {
    if (noValgrind) return t.skip(noValgrind);
    const file = path.join(scratch, 'small.hktrace');
    await writeTrace(randomMixedTrace(30_000, 500, 7, 16, 512), file);
    const r = instructions([file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /heap run, 6 timed passes \(2 of 4\)/); // progress on stderr
    const report = JSON.parse(r.stdout) as InstructionsReport;
    const h = report.sides.find((s) => s.side === 'hakmem') as HakmemInstructions;
    const s = report.sides.find((x) => x.side === 'system') as SystemInstructions;
    assert.equal(h.ops, 30_000);
    assert.equal(h.preset, 'current');
    assert.ok(h.oracleRun.steadyPerOp > 0, `oracle steady ${h.oracleRun.steadyPerOp}`);
    assert.ok(h.allocatorRun.steadyPerOp > h.oracleRun.steadyPerOp, `heap steady ${h.allocatorRun.steadyPerOp}, oracle ${h.oracleRun.steadyPerOp}`);
    assert.ok(h.allocatorPerOp > 0 && h.allocatorPerOp < h.allocatorRun.steadyPerOp, `allocator ${h.allocatorPerOp}`);
    assert.ok(Math.abs(h.allocatorPerOp - (h.allocatorRun.steadyPerOp - h.oracleRun.steadyPerOp)) < 1e-9);
    assert.equal(h.top.length, 10);
    // The replay loop (hakmem's malloc and free inlined into it), named without tier marker or project folder.
    assert.match(h.top[0].name, /^JS:offsetOps lib\/bench\/workloads\/replay\.ts:\d+:\d+$/, JSON.stringify(h.top));
    assert.ok(h.top.every((f, i) => !/^JS:[*~^+]/.test(f.name) && (i === 0 || f.perOp <= h.top[i - 1].perOp)));
    assert.equal(s.ops, 30_000);
    assert.ok(s.oraclePassPerOp > 0 && s.allocatorPassPerOp > s.oraclePassPerOp, JSON.stringify(s));
    assert.ok(s.allocatorPerOp > 0);
  });
});

describe("npm run instructions: a run of fixed's loop", () => {
  test('the loop run twice, its fingerprint checked: instructions per cycle, the loop function first', (t) => {
    if (noValgrind) return t.skip(noValgrind);
    const r = instructions(['fixed', '64', '3', '--size', '48', '--cycles-low', '200000', '--cycles-high', '400000', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /fixed 64 3 --size 48: hakmem \(current\), 400000 measured cycles \(2 of 2\)/); // progress on stderr
    const l = JSON.parse(r.stdout) as LoopInstructions;
    assert.equal(l.workload, 'fixed 64 3 --size 48');
    assert.deepEqual(l.cycles, { low: 200_000, high: 400_000 });
    assert.equal(l.heap.configHash, createHeap({ preset: 'current' }).configHash);
    // A cycle is an RNG draw and a malloc (with the block's first and last bytes written) or a free.
    assert.ok(l.steadyPerCycle > 20 && l.steadyPerCycle < 2000, `steady ${l.steadyPerCycle} a cycle`);
    assert.match(l.top[0].name, /^JS:runCycles lib\/bench\/workloads\/random-mixed\.ts:\d+:\d+$/, JSON.stringify(l.top));
    assert.ok(l.top.every((f, i) => !/^JS:[*~^+]/.test(f.name) && (i === 0 || f.perOp <= l.top[i - 1].perOp)), JSON.stringify(l.top));
  });
});
