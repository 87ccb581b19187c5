import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { COLUMNS, readRows } from '../lib/bench/matrix/results-csv';
import type { MatrixRecord } from '../lib/bench/matrix/matrix';

const ROOT = path.resolve(__dirname, '..');
const MATRIX = ['-r', 'ts-node/register/transpile-only', 'scripts/matrix.ts'];
// 2 allocators x 5 benches x 3 reps = 30 runs of 20000 cycles.
const TINY = ['--allocators', 'v8,system', '--benches', 'fixed,random-mixed', '--cycles', '20000', '--reps', '3'];
const TOTAL = 30;

const dataLines = (csv: string) => {
  try {
    return readFileSync(csv, 'utf8').split('\n').filter(Boolean).length - 1;
  } catch {
    return 0;
  }
};

/** Starts the matrix, sends `signal` once `rows` rows are in the CSV, and resolves with its exit. */
function runUntil(out: string, rows: number, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [...MATRIX, '--out', out, ...TINY], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const poll = setInterval(() => {
    if (dataLines(`${out}.csv`) >= rows) {
      clearInterval(poll);
      child.kill(signal);
    }
  }, 50);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stderr });
    }),
  );
}

const keyOf = (r: Record<string, string>) => [r.bench, r.size, r.allocator, r.rep].join('|');

describe('matrix crash safety', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-matrix-'));
  const out = path.join(dir, 'set');
  const csv = `${out}.csv`;
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every finished row through a crash, a torn line and Ctrl-C, then resumes to a complete set', async () => {
    // 1. A crash (SIGKILL) after the first rows land: they stay, whole and parseable.
    const crashed = await runUntil(out, 3, 'SIGKILL');
    assert.equal(crashed.signal, 'SIGKILL');
    const first = readRows(csv);
    assert.ok(first.rows.length >= 3 && first.rows.length < TOTAL, `${first.rows.length} rows`);
    for (const r of first.rows) {
      assert.ok(Number(r.opsPerSec) > 0, JSON.stringify(r));
      assert.match(r.fingerprint, /^\d+\/\d+\/\d+\/\d+$/);
    }

    // 2. A line torn mid-write, then Ctrl-C: the torn line is dropped, new rows appended, exit 130.
    appendFileSync(csv, 'fixed,128,128,1');
    const interrupted = await runUntil(out, first.rows.length + 2, 'SIGINT');
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(interrupted.stderr, /dropping an unfinished last line/);
    assert.match(interrupted.stderr, new RegExp(`resuming .*: ${first.rows.length} of ${TOTAL} runs already there`));
    assert.match(interrupted.stderr, /interrupted; .* run the same command to resume/);
    const second = readRows(csv);
    assert.equal(second.partialTail, false);
    assert.deepEqual(second.rows.slice(0, first.rows.length), first.rows);

    // 3. The same command finishes the set: every run exactly once, one header.
    const done = spawnSync(process.execPath, [...MATRIX, '--out', out, ...TINY], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(done.status, 0, done.stderr);
    const text = readFileSync(csv, 'utf8');
    assert.equal(text.split('\n').filter((l) => l === COLUMNS.join(',')).length, 1);
    const all = readRows(csv).rows;
    assert.equal(all.length, TOTAL);
    assert.equal(new Set(all.map(keyOf)).size, TOTAL);
    assert.deepEqual(all.slice(0, second.rows.length), second.rows);

    // Provenance: one session per run, the last complete.
    const record = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as MatrixRecord;
    assert.deepEqual(record.sessions.map((s) => s.status), ['running', 'interrupted', 'complete']);
    // (The crashed session's count may lag its last row: it died between the two writes.)
    assert.equal(record.sessions[1].rowsWritten + record.sessions[2].rowsWritten, TOTAL - first.rows.length);
    assert.equal(record.sessions[0].finishedAt, null);
    assert.ok(record.sessions[2].finishedAt);

    // 4. Resuming with another run length would mix incomparable rows: refused.
    const other = spawnSync(process.execPath, [...MATRIX, '--out', out, ...TINY, '--cycles', '30000'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(other.status, 1);
    assert.match(other.stderr, /holds runs of 20000 cycles.*choose another --out/);
  });
});
