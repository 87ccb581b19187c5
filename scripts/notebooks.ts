/**
 * npm run notebooks -- [names...] [--profile quick|full] [--out DIR]
 * Executes notebooks headlessly on the tslab kernel (the real Jupyter protocol), with the profile's
 * parameters injected, and writes reports/executed/NAME.ipynb, reports/NAME.html and reports/index.html.
 * Exit codes: 0 all ran, 1 a cell failed (the message names the notebook and cell), 2 bad command line.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { listNotebooks, runNotebookBatch } from '../lib/notebook/batch';
import { PROJECT_ROOT } from '../lib/notebook/paths';
import { runMain } from './run-main';

const USAGE = `usage: npm run notebooks -- [names...] [options]

Executes notebooks (default: all in notebooks/) headlessly and exports HTML reports.

options:
  --profile NAME   quick (small runs, the default) or full (the seed's run lengths)
  --out DIR        where reports go (default reports/)
  --help           this text

notebooks: ${listNotebooks().join(', ')}
`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { profile: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`notebooks: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const profile = o.profile ?? 'quick';
  if (profile !== 'quick' && profile !== 'full') {
    process.stderr.write(`notebooks: unknown profile '${profile}' (expected quick or full)\n\n${USAGE}`);
    return 2;
  }
  const names = parsed.positionals.map((n) => n.replace(/\.ipynb$/, '').replace(/^notebooks\//, ''));
  const out = path.resolve(o.out ?? path.join(PROJECT_ROOT, 'reports'));
  const bar = new SingleBar({ format: 'notebooks {bar} {notebook} | cell {cell}', hideCursor: true }, Presets.shades_classic);
  const tty = process.stderr.isTTY;
  let result;
  try {
    result = await runNotebookBatch({
      names: names.length ? names : listNotebooks(),
      profile,
      out,
      onNotebook: (name, i, total) => {
        if (tty) {
          if (i === 0) bar.start(total, 0, { notebook: name, cell: '' });
          else bar.increment({ notebook: name, cell: '' });
        } else process.stderr.write(`[${i + 1}/${total}] ${name}\n`);
      },
      onCell: (done, total) => tty && bar.update({ cell: `${done}/${total}` }),
    });
  } catch (e) {
    bar.stop();
    process.stderr.write(`notebooks: ${(e as Error).message}\n`);
    return 2;
  }
  if (tty) {
    bar.increment();
    bar.stop();
  }
  for (const f of result.failures) process.stderr.write(`notebooks: ${f.message}\n`);
  process.stderr.write(`notebooks: ${result.reports.length} reports; open ${result.index}\n`);
  return result.failures.length ? 1 : 0;
}

runMain('notebooks', main);
