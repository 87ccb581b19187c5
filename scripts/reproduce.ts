/**
 * npm run reproduce [-- --profile quick|full]: the main job. Runs the benchmark matrix into
 * results/PROFILE/matrix (git-ignored; an older set there is moved aside beside it, not mixed in),
 * executes every notebook on that data and exports the HTML reports, then says where they are.
 * The committed reference sets in data/ are left alone. Needs Node alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultOut, previousOut } from '../lib/bench/matrix/locations';

const ROOT = path.resolve(__dirname, '..');
const USAGE = `usage: npm run reproduce [-- --profile quick|full]

Writes the matrix to ${defaultOut('PROFILE')}.csv (git-ignored) and the reports to reports/;
the committed reference sets in data/ change only through npm run matrix -- --out data/NAME.

  quick (default): 2M cycles, 5 repetitions, 1 thread; replays of the bundled traces; notebooks with small runs (about 21 minutes on 2 cores)
  full:            20M cycles, 7 repetitions, 1 and 2 threads; replays of about a second; notebooks at the seed's run lengths (about 95 minutes)
`;

function step(title: string, script: string, args: string[]): number {
  process.stderr.write(`\n== ${title}\n`);
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join('scripts', script), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options: { profile: { type: 'string' }, help: { type: 'boolean' } } }));
  } catch (e) {
    process.stderr.write(`reproduce: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const profile = values.profile ?? 'quick';
  if (profile !== 'quick' && profile !== 'full') {
    process.stderr.write(`reproduce: unknown profile '${profile}'\n\n${USAGE}`);
    return 2;
  }
  const out = defaultOut(profile);
  if (existsSync(path.join(ROOT, `${out}.csv`))) {
    const previous = previousOut(out);
    for (const ext of ['csv', 'json']) {
      const file = path.join(ROOT, `${out}.${ext}`);
      if (existsSync(file)) renameSync(file, path.join(ROOT, `${previous}.${ext}`));
    }
    process.stderr.write(`reproduce: the previous ${out}.csv was moved to ${previous}.csv\n`);
  }
  const threads = profile === 'full' ? '1,2' : '1';
  const matrix = step(`benchmark matrix (${profile})`, 'matrix.ts', ['--profile', profile, '--out', out, '--threads', threads]);
  if (matrix === 130) return 130;
  if (matrix !== 0) process.stderr.write('reproduce: some matrix runs failed (see above); the notebooks show what was measured\n');
  const notebooks = step('notebooks and reports', 'notebooks.ts', ['--profile', profile]);
  process.stderr.write(`\nreproduce: reports in ${path.join(ROOT, 'reports', 'index.html')}\n`);
  return notebooks !== 0 ? notebooks : matrix;
}

process.exitCode = main();
