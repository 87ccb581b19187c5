/**
 * The recorder on a C program with a known allocation sequence (every entry point, realloc's cases,
 * a forked child, a second thread), its errors, and the trace command line.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildNative, isSkipped } from '../lib/bench/native/run-native';
import { readTrace } from '../lib/trace/read';
import { recordTrace } from '../lib/trace/record';
import { OP_LETTERS, type Trace } from '../lib/trace/trace';

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'trace-recorder-program.c');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-trace-recorder-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const file = (name: string) => path.join(scratch, name);

/** The ops as text lines without thread tags, e.g. 'c 1 10 8'. */
function lines(t: Trace, from = 0, to = t.length): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const op = OP_LETTERS[t.kind[i]];
    const fields = op === 'f' ? [t.id[i]] : op === 'c' || op === 'a' ? [t.id[i], t.aux[i], t.size[i]] : [t.id[i], t.size[i]];
    out.push([op, ...fields].join(' '));
  }
  return out;
}

const program = file('program');
before(() => {
  // -O0 -fno-builtin: the compiler must not drop allocations whose blocks are unused.
  execFileSync('cc', ['-O0', '-fno-builtin', '-pthread', '-o', program, FIXTURE]);
});

describe('recording a known program', () => {
  let trace: Trace;
  let exitCode: number | null;
  before(async () => {
    const r = await recordTrace({ out: file('known.trace'), command: program, args: [], stdio: 'ignore' });
    exitCode = r.exitCode;
    trace = await readTrace(file('known.trace'));
  });

  test('the exit code is passed on and the trace kept', () => {
    assert.equal(exitCode, 3);
    assert.ok(trace.length > 0);
  });

  test('the main thread\'s ops before the second thread exactly', () => {
    assert.deepEqual(lines(trace, 0, 18), [
      'm 0 100',
      'c 1 10 8',
      'r 0 5000',
      'm 2 33', // realloc(NULL, 33)
      'a 3 64 200', // posix_memalign
      'a 4 128 256', // aligned_alloc
      'a 5 32 40', // memalign
      'f 2', // realloc(c, 0)
      'f 1',
      'm 1 7', // the last ID freed is reused first; then a failed malloc records nothing
      'm 2 15', // reallocarray(NULL, 3, 5)
      'r 2 20', // reallocarray(g, 4, 5)
      'f 0',
      'f 3',
      'f 4',
      'f 5',
      'f 1',
      'f 2',
    ]);
    assert.deepEqual([...trace.thread.subarray(0, 18)], new Array(18).fill(0));
  });

  test('the second thread: tag 1, its own ops in order; then the main thread again', () => {
    const worker = [...Array(trace.length).keys()].filter((i) => trace.thread[i] === 1);
    assert.equal(worker.length, 3);
    const id = trace.id[worker[0]];
    assert.deepEqual(worker.map((i) => lines(trace, i, i + 1)[0]), [
      `m ${id} 11`,
      `r ${id} 12`,
      `f ${id}`,
    ]);
    assert.ok(trace.thread.every((t) => t === 0 || t === 1));
    // Whatever pthread_create allocates comes between; the program's last two ops close the trace.
    const last = trace.id[trace.length - 1];
    assert.deepEqual(lines(trace, trace.length - 2), [`m ${last} 4242`, `f ${last}`]);
    assert.equal(trace.thread[trace.length - 1], 0);
  });

  test('the forked child is not recorded, and the header says what ran', () => {
    assert.ok(!trace.size.includes(999));
    const [command, date, prog, recorder] = trace.comments;
    assert.equal(command, `command: ${program}`);
    assert.match(date, /^date: \d{4}-\d\d-\d\dT/);
    assert.equal(prog, `program: ${program}`);
    assert.equal(recorder, 'recorder: hakmem-ts trace-recorder');
  });
});

test('arguments with line breaks are written on the command line as $\'...\' words a shell reads back', async () => {
  // python3 -c with a script of several lines: a trace's comment is one line.
  const args = ["print(1)\nprint('x')\t\\", "it's", 'plain', '\x01'];
  await recordTrace({ out: file('args.trace'), command: program, args, stdio: 'ignore' });
  const [command] = (await readTrace(file('args.trace'))).comments;
  assert.equal(command, `command: ${program} $'print(1)\\nprint(\\'x\\')\\t\\\\' 'it'\\''s' plain $'\\x01'`);
  const words = command.slice(`command: ${program} `.length);
  assert.deepEqual(execFileSync('bash', ['-c', `printf '%s\\0' ${words}`], { encoding: 'utf8' }).split('\0').slice(0, -1), args);
});

describe('recording under threads and at _exit', () => {
  test('larson with 2 threads handing blocks over: one consistent order of ops', async () => {
    const larson = await buildNative('larson');
    if (isSkipped(larson)) assert.fail(larson.skipped);
    // Every op is checked when the trace is read: a free recorded after another thread reused
    // the address would show up as an allocation of a live ID or a free of a dead one.
    const r = await recordTrace({
      out: file('larson.hktrace'),
      command: larson,
      args: ['--generations', '20', '16', '256', '200', '20', '1', '2'],
      stdio: 'ignore',
    });
    assert.equal(r.exitCode, 0);
    const t = await readTrace(file('larson.hktrace'));
    assert.ok(t.length > 100_000, `${t.length} ops`);
    assert.ok(new Set(t.thread).size > 2, 'larson hands its work to new threads');
  });

  test('a program that ends with _exit keeps its buffered ops', async () => {
    const source = file('quick-exit.c');
    writeFileSync(source, '#include <stdlib.h>\n#include <unistd.h>\nint main(void) { free(malloc(77)); malloc(88); _exit(0); }\n');
    execFileSync('cc', ['-O0', '-fno-builtin', '-o', file('quick-exit'), source]);
    await recordTrace({ out: file('quick-exit.trace'), command: file('quick-exit'), args: [], stdio: 'ignore' });
    assert.deepEqual(lines(await readTrace(file('quick-exit.trace'))), ['m 0 77', 'f 0', 'm 0 88']);
  });
});

describe('record errors', () => {
  test('a command that does not exist: an error, nothing written', async () => {
    await assert.rejects(
      recordTrace({ out: file('none.trace'), command: 'no-such-command-hakmem', args: [] }),
      /command not found: no-such-command-hakmem$/,
    );
    assert.equal(existsSync(file('none.trace')), false);
  });

  test('a missing output folder', async () => {
    await assert.rejects(
      recordTrace({ out: file('no/dir/x.trace'), command: program, args: [] }),
      /the output folder .*no\/dir does not exist/,
    );
  });

  test('a statically linked program: no allocations recorded, nothing written', async (t) => {
    const staticProgram = file('static');
    const built = spawnSync('cc', ['-static', '-O0', '-fno-builtin', '-pthread', '-o', staticProgram, FIXTURE], { encoding: 'utf8' });
    if (built.status !== 0) {
      t.skip(`cc -static does not work here: ${built.stderr.trim().split('\n')[0]}`);
      return;
    }
    await assert.rejects(
      recordTrace({ out: file('static.trace'), command: staticProgram, args: [], stdio: 'ignore' }),
      /no allocations recorded: the recorder was not loaded into .*static \(LD_PRELOAD does not apply to a statically linked or setuid program\)/,
    );
    assert.equal(existsSync(file('static.trace')), false);
  });
});

describe('npm run trace', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'scripts', 'trace.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  test('usage errors exit 2 with the problem and the usage', () => {
    const noOut = cli('record', '--', 'true');
    assert.equal(noOut.status, 2);
    assert.match(noOut.stderr, /^trace record: --out FILE is required\n\nusage: npm run trace/);
    const unknown = cli('frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.equal(cli('--help').status, 0);
  });

  test('record, convert and stats --json', () => {
    const rec = cli('record', '--out', file('cli.hktrace.gz'), '--', program);
    assert.equal(rec.status, 0, rec.stderr);
    assert.match(rec.stderr, /warning: the command exited with code 3; the trace is kept/);
    const conv = cli('convert', file('cli.hktrace.gz'), file('cli.trace'));
    assert.equal(conv.status, 0, conv.stderr);
    assert.match(readFileSync(file('cli.trace'), 'utf8'), /^# hakmem-trace v1\n# command: .*program\n/);
    const st = cli('stats', '--json', file('cli.trace'));
    assert.equal(st.status, 0, st.stderr);
    const s = JSON.parse(st.stdout);
    assert.equal(s.threads, 2);
    assert.ok(s.counts.aligned === 3 && s.counts.calloc >= 1 && s.counts.realloc >= 3);
  });

  test('a bad trace: exit 1 with file and line', () => {
    writeFileSync(file('bad.trace'), '# hakmem-trace v1\nm 1 8\nq 2\n');
    const st = cli('stats', file('bad.trace'));
    assert.equal(st.status, 1);
    assert.match(st.stderr, /bad\.trace:3: unknown op 'q'/);
  });
});
