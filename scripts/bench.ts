/**
 * npm run bench -- <bench> <args...> [options]   (see lib/bench/cli-args.ts)
 * Exit codes: 0 ran or skipped, 1 the run failed, 2 bad command line.
 */
import { USAGE, UsageError, parseBenchArgs } from '../lib/bench/cli-args';
import { formatResultLine, runBench } from '../lib/bench/runner';
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
  const result = await runBench(command);
  process.stdout.write(command.json ? `${JSON.stringify(result)}\n` : `${formatResultLine(result)}\n`);
  return 0;
}

runMain('bench', main);
