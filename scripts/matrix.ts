/**
 * npm run matrix -- [--profile quick|full|tiny] [--out PATH] [--allocators a,b] [--engines e,f] [--shard K/N] ...
 * npm run matrix -- merge OUT SHARD...
 * (see lib/bench/matrix/matrix-args.ts). Exit codes: 0 done, 1 some runs failed or a merge was
 * refused, 2 bad command line, 130 interrupted (rerun the same command to resume).
 */
import { Presets, SingleBar } from 'cli-progress';
import { UsageError } from '../lib/bench/cli-args';
import { runLabel, runMatrix, type MatrixHooks } from '../lib/bench/matrix/matrix';
import { MATRIX_USAGE, parseMatrixArgs, type MergeCommand } from '../lib/bench/matrix/matrix-args';
import { MergeError, mergeShards } from '../lib/bench/matrix/merge';
import { cellRatios, type CellRatio } from '../lib/bench/matrix/cell-ratios';
import { readRows } from '../lib/bench/matrix/results-csv';
import { formatRate } from '../lib/bench/runner';
import { runMain } from './run-main';

async function main(): Promise<number> {
  let command;
  try {
    command = parseMatrixArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`matrix: ${e.message}\n\n${MATRIX_USAGE}`);
    return e.exitCode;
  }
  if ('help' in command) {
    process.stdout.write(MATRIX_USAGE);
    return 0;
  }
  if ('merge' in command) return merge(command);

  const started = Date.now();
  const summary = await runMatrix(command, process.stderr.isTTY ? barHooks() : lineHooks());
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  process.stderr.write(
    `matrix: ${summary.written} rows written to ${summary.csv} in ${minutes} min` +
      (summary.skippedAsDone ? ` (${summary.skippedAsDone} already there)` : '') +
      `; provenance in ${summary.json}\n`,
  );
  for (const f of summary.failures) process.stderr.write(`matrix: failed: ${f}\n`);
  const ratios = cellRatios(readRows(summary.csv).rows);
  if (ratios.length) {
    process.stdout.write(`${summary.csv}: median throughput and ratio to system per cell; replay also the allocator-only time, paired by repetition (<1: less time than system)\n`);
    printRatios(ratios);
  }
  if (summary.interrupted) {
    process.stderr.write('matrix: interrupted; the rows above are kept: run the same command to resume\n');
    return 130;
  }
  return summary.failures.length ? 1 : 0;
}

function merge({ merge: { out, sources } }: MergeCommand): number {
  let summary;
  try {
    summary = mergeShards(out, sources);
  } catch (e) {
    if (!(e instanceof MergeError)) throw e;
    process.stderr.write(`matrix merge: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`matrix merge: ${summary.shards} shards, ${summary.rows} rows into ${summary.csv}; provenance in ${summary.json}\n`);
  for (const m of summary.machines) {
    process.stdout.write(`\n${m.machine} (shard${m.shards.length > 1 ? 's' : ''} ${m.shards.join(', ')}): median ratio to system per cell\n`);
    printRatios(m.ratios);
  }
  return 0;
}

function printRatios(ratios: readonly CellRatio[]): void {
  for (const r of ratios) {
    process.stdout.write(
      `  ${r.cell.padEnd(34)} ${r.series.padEnd(24)} ${formatRate(r.median).padStart(7)} vs ${formatRate(r.systemMedian).padStart(7)} ops/s = ${r.ratio.toFixed(2)}x (n=${r.reps})\n`,
    );
    const own = r.allocatorOnly;
    if (own === null) continue;
    process.stdout.write(
      `  ${''.padEnd(34)} allocator only: ${own.medianNs.toFixed(2)} vs ${own.systemMedianNs.toFixed(2)} ns/op; ` +
        `paired by rep ${own.ratio.toFixed(3)}x [${own.low.toFixed(3)}, ${own.high.toFixed(3)}], ${own.below} of ${own.pairs} below 1, ` +
        `best ${own.bestRatio.toFixed(3)}x: ${own.verdict}\n`,
    );
  }
}

function outcomeText(outcome: Parameters<NonNullable<MatrixHooks['finished']>>[1]): string {
  if ('error' in outcome) return `FAILED ${outcome.error}`;
  const { row } = outcome;
  return row.skipped ? `skipped (${row.skipped})` : `${formatRate(Number(row.opsPerSec))} ops/s`;
}

/** A progress bar with ETA on a terminal. */
function barHooks(): MatrixHooks {
  const bar = new SingleBar(
    { format: 'matrix {bar} {value}/{total} runs | ETA {eta_formatted} | {last}', hideCursor: true, etaBuffer: 30 },
    Presets.shades_classic,
  );
  return {
    start: (total, done) => bar.start(total, done, { last: '' }),
    finished: (run, outcome) => bar.increment({ last: `${runLabel(run)}: ${outcomeText(outcome)}` }),
    warn: (m) => process.stderr.write(`matrix: ${m}\n`),
    end: () => bar.stop(),
  };
}

/** One line per run where there is no terminal (CI logs, pipes). */
function lineHooks(): MatrixHooks {
  let total = 0;
  let count = 0;
  return {
    start: (t, done) => {
      total = t;
      count = done;
    },
    finished: (run, outcome) => {
      count++;
      process.stderr.write(`[${count}/${total}] ${runLabel(run)}: ${outcomeText(outcome)}\n`);
    },
    warn: (m) => process.stderr.write(`matrix: ${m}\n`),
  };
}

runMain('matrix', main);
