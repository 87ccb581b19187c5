/**
 * npm run history -- [PATH...] [--out DIR]
 * Reads every result set it is given or finds under the folders given (default: results data),
 * orders them by commit date and writes DIR/history.html (default reports/): each key figure per
 * workload over commits, changes beyond the noise marked. Prints each line's latest change.
 * Exit codes: 0 written, 1 no result sets or one could not be read, 2 bad command line.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildHistory } from '../lib/report/history/history';
import { writeHistoryPage } from '../lib/report/history/history-page';
import { findResultSets } from '../lib/report/history/find-result-sets';
import { runMain } from './run-main';

const USAGE = `usage: npm run history -- [PATH...] [--out DIR]

PATH is a result set (results/quick/matrix, data/quick.csv) or a folder searched for them
(default: results data). Shards of a sharded run are left out: their merged set counts.
Writes DIR/history.html (default reports/history.html): per workload, hakmem / glibc throughput,
allocator-only time where the sets have it, and utilization, over commits; a change from one point
to the next is marked when it is beyond the noise (rank-sum p < 0.05 and a bootstrap 95% interval
leaving out 1, as npm run compare decides).
`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { out: { type: 'string' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`history: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // The default folders are searched where they exist and may hold no set; a path given must hold one.
  const searching = parsed.positionals.length === 0;
  const paths = searching ? ['results', 'data'].filter((d) => existsSync(d)) : parsed.positionals;
  let history;
  try {
    history = buildHistory(findResultSets(paths, process.cwd(), { searching }));
  } catch (e) {
    process.stderr.write(`history: ${(e as Error).message}\n`);
    return 1;
  }
  const file = await writeHistoryPage(history, path.resolve(parsed.values.out ?? 'reports'));
  const marked = history.points.filter((p) => p.verdict === 'better' || p.verdict === 'worse');
  process.stdout.write(`history: ${history.sets.length} result sets, ${history.points.length} points, ${marked.length} changes beyond the noise\n`);
  for (const p of marked) process.stdout.write(`  ${p.verdict.padEnd(6)} ${p.figure} ${p.line} at ${p.commit}: ${p.change!.toFixed(3)}x [${p.changeInterval}] (${p.set})\n`);
  for (const m of history.missing) process.stdout.write(`  not shown: ${m.figure} (${m.why})\n`);
  process.stdout.write(`history: open ${file}\n`);
  return 0;
}

runMain('history', main);
