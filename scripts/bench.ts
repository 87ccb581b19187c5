/**
 * npm run bench -- <bench> <args...> [options]   (see lib/bench/cli-args.ts)
 * Exit codes: 0 ran or skipped, 1 the run failed, 2 bad command line.
 */
import { USAGE, UsageError, parseBenchArgs, type BenchRequest } from '../lib/bench/cli-args';
import { benchInFreshProcess } from '../lib/bench/bench-process';
import { unavailableReason } from '../lib/bench/adapters/index';
import { RUNNING_NODE, currentRuntime } from '../lib/bench/engines/engines';
import { pinOf, resolveEngine } from '../lib/bench/engines/install';
import { formatBreakdown } from '../lib/bench/measures/breakdown';
import { formatResultLine, runBench, skippedResult, type BenchResult } from '../lib/bench/runner';
import { runMain } from './run-main';

async function main(): Promise<number> {
  let command;
  try {
    command = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n\n${USAGE}`);
    return e.exitCode;
  }
  if ('help' in command) {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = command.engine === RUNNING_NODE ? await runHere(command) : await runOnEngine(command);
  process.stdout.write(command.json ? `${JSON.stringify(result)}\n` : `${formatResultLine(result)}\n`);
  if (!command.json && result.breakdown) process.stdout.write(`${formatBreakdown(result.breakdown)}\n`);
  return 0;
}

/** The request in this process; an allocator that cannot be built here is a skipped result with the reason. */
async function runHere(request: BenchRequest): Promise<BenchResult> {
  const unavailable = await unavailableReason(request.allocator);
  if (unavailable === null) return runBench(request);
  const { runtime, version } = currentRuntime();
  return skippedResult(request, runtime, version, unavailable);
}

/** The same command, without --engine, in a fresh process of that engine (installed on first use). */
async function runOnEngine(request: BenchRequest): Promise<BenchResult> {
  const resolved = resolveEngine(request.engine, {
    onInstall: (pin) => process.stderr.write(`bench: installing ${pin.name} (${pin.package}@${pin.version}) into .cache/engines\n`),
  });
  if ('skipped' in resolved) return skippedResult(request, request.engine, pinOf(request.engine).version, resolved.skipped);
  return benchInFreshProcess(withoutEngine(process.argv.slice(2)), {}, resolved.engine);
}

function withoutEngine(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--engine') i++;
    else if (!argv[i].startsWith('--engine=') && argv[i] !== '--json') out.push(argv[i]);
  }
  return out;
}

runMain('bench', main);
