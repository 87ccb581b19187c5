/**
 * One benchmark run in a fresh node process (scripts/bench.ts --json): every measured repetition
 * starts with a clean JIT, so no allocator's type feedback leaks into another's loop. The matrix
 * and the notebooks measure through this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { BenchResult } from './runner';

const ROOT = path.resolve(__dirname, '..', '..');
const BENCH_SCRIPT = path.join(ROOT, 'scripts', 'bench.ts');

export type ChildOutcome = { result: BenchResult } | { error: string };

/** scripts/bench.ts in a fresh node process; resolves with its JSON result or its error. */
export function runBenchProcess(
  argv: readonly string[],
  env: Record<string, string> = {},
): { process: ChildProcess; done: Promise<ChildOutcome> } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', BENCH_SCRIPT, ...argv, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ChildOutcome>((resolve) => {
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = stderr.trim().split('\n').pop() || `no message`;
        resolve({ error: `exit ${signal ?? code}: ${why}` });
        return;
      }
      try {
        resolve({ result: parseResult(stdout) });
      } catch (e) {
        resolve({ error: (e as Error).message });
      }
    });
  });
  return { process: child, done };
}

function parseResult(stdout: string): BenchResult {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    throw new Error(`bench printed no JSON result: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const r = v as Partial<BenchResult>;
  const ran = typeof r.opsPerSec === 'number' && typeof r.ops === 'number' && typeof r.seconds === 'number';
  if (typeof r.bench !== 'string' || typeof r.allocator !== 'string' || !(ran || typeof r.skipped === 'string')) {
    throw new Error(`bench printed an unexpected result: ${stdout.slice(0, 200)}`);
  }
  return v as BenchResult;
}

/**
 * Runs `npm run bench -- ARGV --json` in a fresh process (with `env` added to this process's
 * environment, e.g. HAKMEM_* switches) and returns its result; rejects on failure.
 */
export async function benchInFreshProcess(argv: readonly string[], env: Record<string, string> = {}): Promise<BenchResult> {
  const outcome = await runBenchProcess(argv, env).done;
  if ('error' in outcome) throw new Error(`bench ${argv.join(' ')}: ${outcome.error}`);
  return outcome.result;
}
