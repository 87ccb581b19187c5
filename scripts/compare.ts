/**
 * npm run compare -- A B   (two result sets: data/NAME or data/NAME.csv)
 * Prints, per cell, B's median throughput relative to A's with a bootstrap
 * 95% interval and a rank-sum verdict, then what makes the sets unlike.
 * Exit codes: 0 compared, 1 a set could not be read, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { compareSets, formatComparison, loadResultSet } from '../lib/bench/matrix/compare';
import { currentCheckout } from '../lib/bench/matrix/provenance';

const USAGE = `usage: npm run compare -- A B

A and B are result sets written by npm run matrix (data/NAME or data/NAME.csv).
For each cell (bench, size, allocator): median ops/s of A and B, the ratio B/A with
its bootstrap 95% interval, the Mann-Whitney rank-sum p-value and a verdict
(faster / slower / no difference at p < 0.05); then warnings where the sets differ
in code, dirty state, machine, configuration or run length.
`;

function main(): number {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`compare: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    process.stderr.write(`compare: expected two result sets, got ${parsed.positionals.length}\n\n${USAGE}`);
    return 2;
  }
  const [a, b] = parsed.positionals.map(loadResultSet);
  process.stdout.write(formatComparison(compareSets(a, b, currentCheckout())));
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  process.stderr.write(`compare: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
