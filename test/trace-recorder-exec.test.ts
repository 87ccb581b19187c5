/**
 * The recorder across exec and into child processes: a wrapper script that removes LD_PRELOAD and
 * execs the program is followed into one trace, and so is `env -u LD_PRELOAD`; `children` gives each forked, spawned and vforked
 * process a trace of its own and, by default, none is recorded or mixed in. The traces replay on
 * hakmem and glibc with the trace's fingerprint.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildC, HOST_CFLAGS, hostCompiler, isSkipped } from '../lib/build/build-c';
import { runBench } from '../lib/bench/runner';
import { replayFacts } from '../lib/bench/workloads/replay-facts';
import { readTrace } from '../lib/trace/read';
import { childTraceFile, recordTrace, type RecordResult } from '../lib/trace/record';
import { OP_FREE, OP_LETTERS, OP_REALLOC, type Trace } from '../lib/trace/trace';

const ROOT = path.resolve(__dirname, '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-trace-exec-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const file = (name: string) => path.join(scratch, name);

/** Ops from `from` on as text lines without thread tags, e.g. 'm 0 4242'. */
function lines(t: Trace, from = 0): string[] {
  const out: string[] = [];
  for (let i = from; i < t.length; i++) {
    const op = OP_LETTERS[t.kind[i]];
    out.push(op === 'f' ? `f ${t.id[i]}` : `${op} ${t.id[i]} ${t.size[i]}`);
  }
  return out;
}

/** IDs live after the first `upTo` ops. */
function liveAt(t: Trace, upTo: number): Set<number> {
  const live = new Set<number>();
  for (let i = 0; i < upTo; i++) {
    if (t.kind[i] === OP_FREE) live.delete(t.id[i]);
    else if (t.kind[i] !== OP_REALLOC) live.add(t.id[i]);
  }
  return live;
}

async function replaysWithItsFingerprint(traceFile: string): Promise<void> {
  const facts = replayFacts(await readTrace(traceFile));
  for (const allocator of ['hakmem', 'system'] as const) {
    const r = await runBench({
      bench: 'replay',
      allocator,
      threads: 1,
      engine: 'node',
      json: true,
      timeline: null,
      latency: false,
      args: { file: traceFile, loops: 1 },
    });
    assert.deepEqual(r.fingerprint, facts.fingerprint, `${allocator} on ${traceFile}`);
  }
}

let program = '';
before(async () => {
  // -O0 -fno-builtin: the compiler must not drop allocations whose blocks are unused.
  const built = await buildC({
    compiler: hostCompiler(),
    sources: [path.join(__dirname, 'fixtures', 'trace-recorder-family.c')],
    flags: [...HOST_CFLAGS, '-O0', '-fno-builtin'],
    output: file('family'),
  });
  if (isSkipped(built)) assert.fail(built.skipped);
  program = built;
});

describe('a wrapper script that removes the recorder and execs the program', () => {
  let r: RecordResult;
  let shim = '';
  before(async () => {
    shim = file('shim.sh');
    writeFileSync(shim, `#!/bin/sh\nunset LD_PRELOAD HAKMEM_TRACE_DIR\nexec '${program}'\n`);
    chmodSync(shim, 0o755);
    r = await recordTrace({ out: file('shim.trace.gz'), command: shim, args: [], stdio: 'ignore' });
  });

  test('one trace: the shell, then the program it exec\'d into, which sees a clean environment', () => {
    assert.equal(r.exitCode, 0, 'the program found the recorder\'s variables in its environment (exit 10)');
    assert.equal(r.execs.length, 1);
    const [exec] = r.execs;
    assert.equal(exec.exe, program);
    assert.ok(exec.firstOp > 0, 'the shell allocates before it execs');
    assert.deepEqual(lines(r.trace, exec.firstOp), ['m 0 4242', 'f 0']);
    assert.deepEqual(r.children, []);
  });

  test('the exec frees what the shell left live, so the program\'s IDs start over without a clash', () => {
    const { firstOp } = r.execs[0];
    assert.equal(liveAt(r.trace, firstOp).size, 0);
    // The run of frees before the program's first op (the shell's own last frees among them) frees every live block.
    let runStart = firstOp;
    while (runStart > 0 && r.trace.kind[runStart - 1] === OP_FREE) runStart--;
    assert.ok(firstOp - runStart >= 1, 'the shell had blocks live at its exec');
    assert.equal(liveAt(r.trace, runStart).size, firstOp - runStart);
  });

  test('the file says what ran, and replays on hakmem and glibc with its fingerprint', async () => {
    const written = await readTrace(file('shim.trace.gz'));
    assert.equal(written.length, r.trace.length);
    assert.ok(written.comments.includes(`program: ${shim}`));
    assert.ok(written.comments.some((c) => /^interpreter: \/\S+sh( \(.*\))?$/.test(c)), 'the shell that ran the script');
    assert.ok(written.comments.some((c) => c === `exec at op ${r.execs[0].firstOp}: ${program}`), written.comments.join('\n'));
    await replaysWithItsFingerprint(file('shim.trace.gz'));
  });
});

test('env -u LD_PRELOAD (exec through execvp): env, then the program', async () => {
  const r = await recordTrace({ out: file('env.trace'), command: 'env', args: ['-u', 'LD_PRELOAD', program], stdio: 'ignore' });
  assert.equal(r.exitCode, 0);
  assert.deepEqual(r.execs.map((e) => e.exe), [program]);
  assert.deepEqual(lines(r.trace, r.execs[0].firstOp), ['m 0 4242', 'f 0']);
});

describe('a program that starts four children (two forks, posix_spawn, vfork + exec)', () => {
  test('by default: only its own process, no child recorded or written', async () => {
    const dir = mkdtempSync(file('default-'));
    const r = await recordTrace({ out: path.join(dir, 'family.trace'), command: program, args: ['children'], stdio: 'ignore' });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(lines(r.trace), ['m 0 4242', 'f 0']);
    assert.deepEqual(r.children, []);
    assert.deepEqual(readdirSync(dir), ['family.trace']);
  });

  test('with children: one trace per child, FILE.PID, each with its own ops only', async () => {
    const out = file('family.hktrace');
    const r = await recordTrace({ out, command: program, args: ['children'], children: true, stdio: 'ignore' });
    assert.equal(r.exitCode, 0);
    assert.deepEqual(lines(r.trace), ['m 0 4242', 'f 0']);
    assert.equal(r.children.length, 4, JSON.stringify(r.children));
    const tails: string[][] = [];
    for (const child of r.children) {
      assert.equal(child.out, childTraceFile(out, child.pid));
      assert.equal(child.program, program);
      const t = await readTrace(child.out!);
      assert.equal(t.length, child.ops);
      assert.ok(t.comments.includes(`process: ${child.pid}, started by the command (a child, or a child's child)`));
      const all = lines(t);
      tails.push(all.slice(-2).map((l) => l.replace(/^(\w) \d+/, '$1 ID')));
    }
    // The forked children start empty; the spawned images start with whatever their start-up allocates.
    assert.deepEqual(tails.map((t) => t.join(', ')).sort(), [
      'm ID 1000, f ID',
      'm ID 1001, f ID',
      'm ID 3000, f ID',
      'm ID 3000, f ID',
    ]);
    await replaysWithItsFingerprint(r.children[0].out!);
  });

  test('npm run trace -- record --children lists the children\'s traces', () => {
    const out = file('cli.trace');
    const cli = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'scripts', 'trace.ts'), 'record', '--children', '--out', out, '--', program, 'children'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const listed = [...cli.stderr.matchAll(/^ {2}(\d+) .*: \d+ ops -> (\S+)$/gm)];
    assert.equal(listed.length, 4, cli.stderr);
    for (const [, pid, trace] of listed) {
      assert.equal(trace, childTraceFile(out, Number(pid)));
      assert.ok(existsSync(trace));
    }
    assert.match(cli.stderr, /4 child processes recorded/);
  });
});
