/**
 * One benchmark run in a fresh process (scripts/bench.ts --json) on a JS engine: every measured
 * repetition starts with a clean JIT, so no allocator's type feedback leaks into another's loop.
 * The bench command (--engine), the matrix and the notebooks measure through this.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { runningNode, scriptCommand, type Engine } from './engines/engines';
import type { BenchResult } from './runner';

const ROOT = path.resolve(__dirname, '..', '..');
const BENCH_SCRIPT = path.join(ROOT, 'scripts', 'bench.ts');

export type ChildOutcome = { result: BenchResult } | { error: string };

/**
 * scripts/bench.ts in a fresh process of `engine` (default: the running node); resolves with its JSON
 * result, labelled with the engine's name, or its error. A child that reports another runtime or
 * version than the engine's is an error: a result is never silently from another engine.
 */
export function runBenchProcess(
  argv: readonly string[],
  env: Record<string, string> = {},
  engine: Engine = runningNode(),
): { process: ChildProcess; done: Promise<ChildOutcome> } {
  const { command, args } = scriptCommand(engine, BENCH_SCRIPT, [...argv, '--json']);
  const child = spawn(command, args, {
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
        resolve({ result: asEngine(parseResult(stdout), engine) });
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

function asEngine(r: BenchResult, engine: Engine): BenchResult {
  if (r.engine !== engine.runtime || r.engineVersion !== engine.version) {
    throw new Error(`engine ${engine.name} (${engine.runtime} ${engine.version}) was asked for, but the bench ran on ${r.engine} ${r.engineVersion}`);
  }
  return { ...r, engine: engine.name };
}

/**
 * Runs `npm run bench -- ARGV --json` in a fresh process (with `env` added to this process's
 * environment, e.g. HAKMEM_* switches) and returns its result; rejects on failure.
 */
export async function benchInFreshProcess(
  argv: readonly string[],
  env: Record<string, string> = {},
  engine: Engine = runningNode(),
): Promise<BenchResult> {
  const outcome = await runBenchProcess(argv, env, engine).done;
  if ('error' in outcome) throw new Error(`bench ${argv.join(' ')}: ${outcome.error}`);
  return outcome.result;
}
