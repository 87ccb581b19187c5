/**
 * Instructions per op of a trace replay, counted by valgrind's callgrind: the steadier second reading
 * of the replay's allocator-only cost (its time moves from batch to batch on a busy machine; its
 * instruction count barely does). Both sides are counted as the bench times them, against an oracle
 * that replays the same loop without allocator work (WORKLOADS.md "replay").
 *
 * hakmem: instructions-replay.ts runs under callgrind in a child process, once on the heap (which
 * records its footprint pass's blocks) and once on the oracle over those blocks, each with LOW and
 * with HIGH timed passes; per op = (count(HIGH) - count(LOW)) / (HIGH - LOW) / the trace's ops, which
 * cancels start-up, the footprint pass and the warm-up passes. The steady count keeps the instructions
 * of JIT code (JS functions and V8 builtins, named by V8's perf map) and of libc's memset, memcpy and
 * memmove; it leaves out V8's compiler, GC and runtime C++, which also run during the timed passes of
 * a short trace and make the total move. The allocator's instructions per op are the heap's steady
 * count less the oracle's.
 *
 * glibc (`system`): scripts/native/replay.c under callgrind, collecting only inside allocator_pass in
 * one run and only inside oracle_pass in another; per op = collected / passes / ops, the passes being
 * the warm-up pass and the timed ones (replay.c timed_passes runs each function 1 + LOOPS times).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../build/build-c';
import { readTrace } from '../../trace/read';
import type { Trace } from '../../trace/trace';
import { binaryTraceFile } from '../native/binary-trace';
import { isSkipped, nativeCommand, parseHarnessLine } from '../native/run-native';
import type { Fingerprint } from '../workloads/random-mixed';
import { checkReplayFingerprint, replayFacts, type ReplayFacts } from '../workloads/replay-facts';

export const INSTRUCTIONS_METHOD =
  "valgrind callgrind's Ir; hakmem: (count at HIGH timed passes - count at LOW) / (HIGH - LOW) / ops, steady = " +
  "JIT code (V8's perf map) and libc's memset/memcpy/memmove, allocator = the heap's steady less the oracle's; " +
  'glibc: Ir inside allocator_pass and inside oracle_pass of scripts/native/replay.c / (1 + LOOPS) passes / ops, ' +
  'allocator = their difference';

/** Per op, the functions of the heap's steady count that cost the most. */
export const TOP_FUNCTIONS = 10;

export interface FunctionCost {
  /** As V8's perf map names it, without its tier marker and with paths relative to the project; or libc's symbol. */
  name: string;
  perOp: number;
}

/** One side counted in two runs (LOW and HIGH timed passes), per op of one timed pass. */
export interface SideCount {
  /** Every instruction. */
  totalPerOp: number;
  /** JIT code and libc's memset/memcpy/memmove only. */
  steadyPerOp: number;
}

export interface HakmemInstructions {
  side: 'hakmem';
  trace: string;
  /** The trace's ops: one timed pass. */
  ops: number;
  preset: string;
  /** The heap's resolved configuration, as the child created it. */
  heap: { build: string; align: number; configHash: string };
  loops: { low: number; high: number };
  allocatorRun: SideCount;
  oracleRun: SideCount;
  /** allocatorRun.steadyPerOp - oracleRun.steadyPerOp */
  allocatorPerOp: number;
  /** allocatorRun.totalPerOp - oracleRun.totalPerOp: V8's own work during the passes included. */
  allocatorTotalPerOp: number;
  /** The heap run's steady count by function, the TOP_FUNCTIONS largest. */
  top: FunctionCost[];
}

export interface SystemInstructions {
  side: 'system';
  trace: string;
  ops: number;
  /** The C replayer's LOOPS: it runs each pass function 1 + LOOPS times. */
  loops: number;
  /** Inside allocator_pass (glibc malloc and the replay loop), per op. */
  allocatorPassPerOp: number;
  /** Inside oracle_pass (the replay loop alone), per op. */
  oraclePassPerOp: number;
  /** allocatorPassPerOp - oraclePassPerOp */
  allocatorPerOp: number;
}

export type SideName = 'hakmem' | 'system';

export interface InstructionsOptions {
  sides: readonly SideName[];
  preset: string;
  /** hakmem's timed passes in its two runs; system: `high` is the C replayer's LOOPS. */
  loopsLow: number;
  loopsHigh: number;
  /** Told before each valgrind run starts. */
  progress?: (message: string) => void;
}

export interface InstructionsReport {
  trace: string;
  method: string;
  sides: (HakmemInstructions | SystemInstructions)[];
}

/** valgrind is not on this machine: no count can be taken. */
export class ValgrindMissing extends Error {
  constructor(detail: string) {
    super(`valgrind is needed to count instructions and cannot be run (${detail}): install it (Debian package valgrind)`);
  }
}

/** The counts of `file` on each side asked for. The trace is read and checked before any valgrind run. */
export async function countReplayInstructions(file: string, options: InstructionsOptions): Promise<InstructionsReport> {
  const { loopsLow, loopsHigh } = options;
  if (!(Number.isInteger(loopsLow) && Number.isInteger(loopsHigh) && loopsLow >= 0 && loopsHigh > loopsLow)) {
    throw new Error(`the timed passes must be whole numbers with low < high, got ${loopsLow} and ${loopsHigh}`);
  }
  const trace = await readTrace(file);
  const facts = replayFacts(trace);
  if (trace.length === 0) throw new Error(`${file}: the trace has no ops`);
  await checkValgrind();
  const name = traceName(file);
  const sides: InstructionsReport['sides'] = [];
  for (const side of options.sides) {
    sides.push(side === 'hakmem' ? await hakmemSide(file, name, trace, facts, options) : await systemSide(file, name, trace, facts, options));
  }
  return { trace: name, method: INSTRUCTIONS_METHOD, sides };
}

function traceName(file: string): string {
  return path.basename(file).replace(/\.gz$/, '').replace(/\.(trace|hktrace)$/, '');
}

export async function checkValgrind(): Promise<void> {
  const r = await run('valgrind', ['--version'], {}).catch((e: NodeJS.ErrnoException) => {
    throw new ValgrindMissing(e.code === 'ENOENT' ? 'not found on PATH' : e.message);
  });
  if (r.code !== 0) throw new ValgrindMissing(`valgrind --version exited with code ${r.code}`);
}

// ---- hakmem ------------------------------------------------------------------------------------

const ENTRY = path.join(__dirname, 'instructions-replay.ts');

/** callgrind's options for the hakmem runs: an absolute address per instruction, full names. */
const CALLGRIND_JIT = ['--tool=callgrind', '--dump-instr=yes', '--compress-pos=no', '--compress-strings=no'];

async function hakmemSide(file: string, name: string, trace: Trace, facts: ReplayFacts, o: InstructionsOptions): Promise<HakmemInstructions> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hakmem-instructions-'));
  try {
    const recording = path.join(dir, 'recorded-blocks');
    const counts: Record<'heap' | 'oracle', Record<'low' | 'high', RunCount>> = { heap: {} as never, oracle: {} as never };
    let heap: HakmemInstructions['heap'] | null = null;
    // Once without valgrind, no timed pass: ts-node transpiles what changed since its cache was
    // written now, not in the first counted run (TypeScript's compiler would count there and not in
    // the others); and a run that cannot work fails here, in a second instead of minutes.
    const prime = async () => {
      o.progress?.(`${name}: hakmem (${o.preset}), a run without valgrind first`);
      await plainRun(ENTRY, ['heap', path.resolve(file), o.preset, '0', recording]);
    };
    await prime();
    let k = 0;
    // The heap's runs first: they write the recording the oracle's replay.
    for (const mode of ['heap', 'oracle'] as const) {
      for (const level of ['low', 'high'] as const) {
        const loops = level === 'low' ? o.loopsLow : o.loopsHigh;
        o.progress?.(`${name}: hakmem (${o.preset}) ${mode === 'heap' ? 'heap' : 'oracle'} run, ${loops} timed passes (${++k} of 4)`);
        const args = [mode, path.resolve(file), o.preset, String(loops), recording];
        let r = await jitRun<ChildLine>(dir, ENTRY, args);
        if (r.transpiled) {
          // A source file changed since the last run: once more with it transpiled beforehand.
          await prime();
          o.progress?.(`${name}: hakmem (${o.preset}) ${mode} run again: ts-node transpiled a changed file in it`);
          r = await jitRun<ChildLine>(dir, ENTRY, args);
          if (r.transpiled) throw new Error('the TypeScript sources keep changing: every run transpiles some of them again, which its count would include');
        }
        checkReplayFingerprint(`hakmem's ${mode} run`, r.line.fingerprint, facts);
        if (r.line.heap) heap = r.line.heap;
        counts[mode][level] = r.count;
      }
    }
    const passes = o.loopsHigh - o.loopsLow;
    const perOp = (mode: 'heap' | 'oracle', pick: (c: RunCount) => number) =>
      (pick(counts[mode].high) - pick(counts[mode].low)) / passes / trace.length;
    const sideCount = (mode: 'heap' | 'oracle'): SideCount => ({
      totalPerOp: perOp(mode, (c) => c.total),
      steadyPerOp: perOp(mode, (c) => c.steady),
    });
    const allocatorRun = sideCount('heap');
    const oracleRun = sideCount('oracle');
    return {
      side: 'hakmem',
      trace: name,
      ops: trace.length,
      preset: o.preset,
      heap: heap ?? { build: '?', align: 0, configHash: '?' },
      loops: { low: o.loopsLow, high: o.loopsHigh },
      allocatorRun,
      oracleRun,
      allocatorPerOp: allocatorRun.steadyPerOp - oracleRun.steadyPerOp,
      allocatorTotalPerOp: allocatorRun.totalPerOp - oracleRun.totalPerOp,
      top: topFunctions(counts.heap.low.byFunction, counts.heap.high.byFunction, passes * trace.length),
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** What instructions-replay.ts prints. */
interface ChildLine {
  ops: number;
  fingerprint: Fingerprint;
  heap?: HakmemInstructions['heap'];
}

/** A run of the child `entry` without valgrind, which must succeed; it prepares what the counted runs read. */
export async function plainRun(entry: string, args: string[]): Promise<void> {
  const r = await run(process.execPath, [...nodeArgs(false, entry), ...args], { cwd: PROJECT_ROOT });
  if (r.code !== 0) throw new Error(`${path.basename(entry)} failed with exit code ${r.code}: ${tail(r.stderr)}`);
}

/**
 * One run of the child `entry` under callgrind: the JSON line it printed and its counts (the callgrind
 * file and V8's perf map are deleted). `transpiled`: TypeScript's compiler ran in it, and its count
 * holds that work.
 */
export async function jitRun<L>(dir: string, entry: string, args: string[]): Promise<{ line: L; count: RunCount; transpiled: boolean }> {
  const out = path.join(dir, 'callgrind.out');
  const node = [process.execPath, ...nodeArgs(true, entry)];
  const r = await run('valgrind', [...CALLGRIND_JIT, `--callgrind-out-file=${out}`, ...node, ...args], { cwd: PROJECT_ROOT });
  const map = perfMapFile(r.pid);
  const script = path.basename(entry);
  try {
    if (r.code !== 0) throw new Error(`valgrind ... ${script} ${args.join(' ')} exited with code ${r.code}: ${tail(r.stderr)}`);
    let line: L;
    try {
      line = JSON.parse(r.stdout.trim()) as L;
    } catch {
      throw new Error(`${script} printed no JSON line: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }
    if (!existsSync(map)) throw new Error(`node wrote no perf map ${map} (--perf-basic-prof): JIT code cannot be named`);
    const mapText = await fs.readFile(map, 'utf8');
    const count = countInstructions(await fs.readFile(out, 'utf8'), parsePerfMap(mapText, PROJECT_ROOT));
    // TypeScript's compiler ran (a file not in ts-node's transpile cache): its work is in the count.
    return { line, count, transpiled: /^\S+ \S+ JS:\S?transpileModule /m.test(mapText) };
  } finally {
    await fs.rm(out, { force: true });
    await fs.rm(map, { force: true });
  }
}

/** node's arguments up to the child `entry`: one thread of V8's own (no concurrent compiler or GC threads), and with `perfMap` V8's perf map. */
function nodeArgs(perfMap: boolean, entry: string): string[] {
  return ['--single-threaded', ...(perfMap ? ['--perf-basic-prof'] : []), '-r', require.resolve('ts-node/register/transpile-only'), entry];
}

/** Where V8 writes the perf map of process `pid` (--perf-basic-prof): Linux perf's fixed place for it. */
function perfMapFile(pid: number): string {
  return path.join('/tmp', `perf-${pid}.map`);
}

/** The functions whose steady count grew most from the low run to the high one, per op. */
export function topFunctions(low: Map<string, number>, high: Map<string, number>, ops: number): FunctionCost[] {
  const rows: FunctionCost[] = [];
  for (const [name, n] of high) rows.push({ name, perOp: (n - (low.get(name) ?? 0)) / ops });
  for (const [name, n] of low) if (!high.has(name)) rows.push({ name, perOp: -n / ops });
  return rows.sort((a, b) => b.perOp - a.perOp).slice(0, TOP_FUNCTIONS);
}

// ---- parsing -----------------------------------------------------------------------------------

/**
 * V8's perf map: which JIT function holds an address. Where code made later took the place of code
 * the GC freed, every function that held it, the latest first (REUSED_SEPARATOR between them).
 */
export interface PerfMap {
  nameAt(address: number): string | null;
}

/**
 * Between the names of functions that held one address in turn. A callgrind count sums a run's
 * instructions at each address, so it cannot tell whose they were: z3-queens' replay loop, freed and
 * compiled again, left its addresses to functions run a few times a pass, which took tens of
 * instructions an op under the latest name alone.
 */
export const REUSED_SEPARATOR = ' | ';

/**
 * Lines `HEXSTART HEXSIZE NAME`. V8 adds a line for each piece of code it makes, and code made later
 * can take the place of code the GC freed: an address is named by every entry that covers it, the
 * latest first. Names lose V8's tier marker (JS:*f, JS:~f, JS:^f, JS:+f are one function) and, when
 * `root` is given, the project's folder before their paths.
 */
export function parsePerfMap(text: string, root?: string): PerfMap {
  const entries: { start: number; end: number; name: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.*)$/.exec(line);
    if (!m) continue;
    const size = parseInt(m[2], 16);
    if (size > 0) entries.push({ start: parseInt(m[1], 16), end: parseInt(m[1], 16) + size, name: functionName(m[3], root) });
  }
  // Disjoint segments, each named by the entries covering it: a sweep over the entries' ends.
  const points = [...new Set(entries.flatMap((e) => [e.start, e.end]))].sort((a, b) => a - b);
  const byStart = entries.map((_, i) => i).sort((a, b) => entries[a].start - entries[b].start);
  // The entries covering the segment from the current point, by index (a later entry, later code).
  let open: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const names: string[] = [];
  let next = 0;
  for (let p = 0; p + 1 < points.length; p++) {
    const at = points[p];
    while (next < byStart.length && entries[byStart[next]].start <= at) open.push(byStart[next++]);
    open = open.filter((i) => entries[i].end > at);
    if (open.length === 0) continue;
    const name = [...new Set(open.sort((a, b) => b - a).map((i) => entries[i].name))].join(REUSED_SEPARATOR);
    if (starts.length > 0 && ends[ends.length - 1] === at && names[names.length - 1] === name) ends[ends.length - 1] = points[p + 1];
    else {
      starts.push(at);
      ends.push(points[p + 1]);
      names.push(name);
    }
  }
  return {
    nameAt(address: number): string | null {
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid] <= address) lo = mid + 1;
        else hi = mid;
      }
      const k = lo - 1;
      return k >= 0 && address < ends[k] ? names[k] : null;
    },
  };
}

/** A perf map name without V8's tier marker and the project's folder. */
function functionName(name: string, root?: string): string {
  let n = name.replace(/^([A-Za-z]+:)[*~^+]/, '$1');
  if (root) n = n.split(root.endsWith('/') ? root : root + '/').join('');
  return n;
}

/** libc's memset, memcpy and memmove, by callgrind's names for them (__memcpy_avx_unaligned_erms, ...). */
const LIBC_MEM = /^(__)?(memset|memcpy|memmove)(_|$)/;

/** One callgrind file's counts. */
export interface RunCount {
  /** Every instruction (the file's summary). */
  total: number;
  /** JIT code and libc's memset/memcpy/memmove. */
  steady: number;
  /** The steady count by function. */
  byFunction: Map<string, number>;
}

/**
 * A callgrind file written with --dump-instr=yes --compress-pos=no --compress-strings=no: `ob=` and
 * `fn=` lines name the object and function of the cost lines after them; a cost line is `0xADDRESS
 * [LINE] COST` (Ir the last field); a `calls=` line is followed by the call's inclusive cost, which is
 * no instruction of this function and is skipped. An address in an object of its own (a shared
 * library) is its offset there, so only the others (the executable, JIT code in no object) are
 * looked up in the perf map. The sum of the cost lines must be the file's summary.
 */
export function countInstructions(text: string, perfMap: PerfMap): RunCount {
  const byFunction = new Map<string, number>();
  let total = 0;
  let steady = 0;
  let summary: number | null = null;
  let fn = '';
  let inSharedObject = false;
  let skipNext = false;
  const add = (name: string, n: number) => {
    byFunction.set(name, (byFunction.get(name) ?? 0) + n);
    steady += n;
  };
  for (const line of text.split('\n')) {
    if (skipNext) {
      skipNext = false;
      continue;
    }
    if (line.startsWith('0x')) {
      const fields = line.trim().split(/\s+/);
      const cost = Number(fields[fields.length - 1]);
      if (fields.length < 2 || !Number.isFinite(cost)) throw new Error(`callgrind file: bad cost line '${line}'`);
      total += cost;
      const jit = inSharedObject ? null : perfMap.nameAt(parseInt(fields[0], 16));
      if (jit !== null) add(jit, cost);
      else if (LIBC_MEM.test(fn)) add(fn, cost);
    } else if (line.startsWith('fn=')) {
      fn = line.slice(3).trim();
    } else if (line.startsWith('ob=')) {
      inSharedObject = /\.so(\.\d+)*$/.test(line.slice(3).trim());
    } else if (line.startsWith('calls=')) {
      skipNext = true;
    } else if (line.startsWith('summary:')) {
      summary = Number(line.slice('summary:'.length).trim().split(/\s+/)[0]);
    }
  }
  if (summary !== null && summary !== total) throw new Error(`callgrind file: its cost lines sum to ${total}, its summary says ${summary}`);
  return { total, steady, byFunction };
}

/** The Ir a callgrind file collected: its summary (or totals) line. */
export function collectedInstructions(text: string): number {
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(text);
  if (!m) throw new Error('callgrind file: no summary line');
  return Number(m[1]);
}

// ---- glibc -------------------------------------------------------------------------------------

async function systemSide(file: string, name: string, trace: Trace, facts: ReplayFacts, o: InstructionsOptions): Promise<SystemInstructions> {
  const loops = o.loopsHigh;
  // In recorded order on this thread (as hakmem's side runs): a threaded replay has no oracle pass.
  const command = await nativeCommand('system', 'replay', [await binaryTraceFile(file, trace), loops, '--serial']);
  if (isSkipped(command)) throw new Error(`the C replayer cannot run: ${command.skipped}`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hakmem-instructions-'));
  try {
    const collected: Record<string, number> = {};
    let k = 0;
    for (const pass of ['allocator_pass', 'oracle_pass']) {
      o.progress?.(`${name}: glibc replay, Ir inside ${pass}, ${loops} timed passes (${++k} of 2)`);
      const out = path.join(dir, `callgrind.${pass}`);
      const args = ['--tool=callgrind', `--toggle-collect=${pass}`, `--callgrind-out-file=${out}`, command.binary, ...command.argv];
      const r = await run('valgrind', args, { env: command.env });
      if (r.code !== 0) throw new Error(`valgrind ... replay ${command.argv.join(' ')} exited with code ${r.code}: ${tail(r.stderr)}`);
      const line = parseHarnessLine(r.stdout, 'replay');
      if ('outOfMemory' in line) throw new Error(`glibc: ${line.outOfMemory}`);
      checkReplayFingerprint('the C replayer', line.fingerprint, facts);
      collected[pass] = collectedInstructions(await fs.readFile(out, 'utf8'));
    }
    const perOp = (n: number) => n / (1 + loops) / trace.length;
    const allocatorPassPerOp = perOp(collected.allocator_pass);
    const oraclePassPerOp = perOp(collected.oracle_pass);
    if (collected.oracle_pass === 0) throw new Error('callgrind collected nothing inside oracle_pass: was the C replayer built without it?');
    return {
      side: 'system',
      trace: name,
      ops: trace.length,
      loops,
      allocatorPassPerOp,
      oraclePassPerOp,
      allocatorPerOp: allocatorPassPerOp - oraclePassPerOp,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

// ---- running -----------------------------------------------------------------------------------

interface Ran {
  pid: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `command args` to its end, its output kept; rejects only when it cannot start. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ pid: child.pid ?? -1, code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }),
    );
  });
}

/** The last lines of a failed run's stderr, for its error. */
function tail(text: string): string {
  return text.trim().split('\n').slice(-12).join('\n');
}
