/**
 * npm run contention -- <larson SECONDS MIN MAX CHUNKS ROUNDS SEED | cross-thread CYCLES WS SEED> [options]
 * Measures the workload on one shared hakmem heap at 1 and 2 workers and prints what the contention
 * model (lib/bench/threads/contention-model.ts, docs/threads.md) predicts at more workers.
 * Exit codes: 0 done, 1 a run failed, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { fitContention, predict, sharedWork } from '../lib/bench/threads/contention-model';
import { measureCriticalSectionNs, measureRuns, type ContentionWorkload } from '../lib/bench/threads/contention-run';
import { formatRate } from '../lib/bench/runner';
import { runMain } from './run-main';

const USAGE = `usage: npm run contention -- <workload> [options]

workloads (the bench's arguments without THREADS, which the model varies):
  larson SECONDS MIN MAX CHUNKS ROUNDS SEED
  cross-thread CYCLES WS SEED [--min N --max N]   (1 worker: its ring leads back to itself)

options:
  --reps N          runs at each worker count, alternating 1 and 2 (default 3); the median counts
  --predict LIST    worker counts to predict, e.g. 4,8,16 (default)
  --cs NS           the pool critical section in ns, instead of measuring it
  --json            one JSON object: the measured runs, the model, the predictions
  --help            this text
`;

function parse(argv: string[]) {
  const { values: o, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      reps: { type: 'string' }, predict: { type: 'string' }, cs: { type: 'string' }, json: { type: 'boolean' },
      min: { type: 'string' }, max: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (o.help) return null;
  const [bench] = positionals;
  if (bench !== 'larson' && bench !== 'cross-thread') throw new UsageError(`expected larson or cross-thread, got '${bench ?? ''}'`);
  // The bench's own parser checks the arguments, with THREADS 2 put in.
  const sizes = [...(o.min ? ['--min', o.min] : []), ...(o.max ? ['--max', o.max] : [])];
  const request = parseBenchArgs([...positionals, '2', ...sizes], {});
  if ('help' in request || (request.bench !== 'larson' && request.bench !== 'cross-thread')) throw new UsageError('not a threaded workload');
  const workload = { bench: request.bench, args: request.args } as ContentionWorkload;
  const count = (name: string, text: string) => {
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${name}: '${text}' is not a whole number >= 1`);
    return Number(text);
  };
  const reps = count('--reps', o.reps ?? '3');
  const predictions = (o.predict ?? '4,8,16').split(',').map((t) => count('--predict', t));
  if (o.cs !== undefined && !(Number(o.cs) >= 0)) throw new UsageError(`--cs: '${o.cs}' is not a time in ns`);
  return { workload, reps, predictions, cs: o.cs === undefined ? null : Number(o.cs), json: o.json ?? false };
}

async function main(): Promise<number> {
  let command;
  try {
    command = parse(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError) && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true) throw e;
    process.stderr.write(`contention: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  const cs = command.cs ?? measureCriticalSectionNs();
  const [one, two] = await measureRuns(command.workload, [1, 2], command.reps);
  const model = fitContention(one, two, cs);
  const predictions = command.predictions.map((n) => predict(model, n));
  if (command.json) {
    process.stdout.write(`${JSON.stringify({ workload: command.workload, runs: [one, two].map((r) => ({ ...r, shared: sharedWork(r) })), model, predictions })}\n`);
    return 0;
  }
  const lines = [
    `${command.workload.bench} on one shared hakmem heap, ${command.reps} runs each (median):`,
    ...[one, two].map((r) => {
      const s = sharedWork(r);
      return `  ${r.threads} worker${r.threads > 1 ? 's' : ' '}: ${formatRate(r.opsPerSec)} ops/s; lock acquisitions/op ${s.lockPerOp.toExponential(2)}, shared RMWs/op ${s.sharedRmwPerOp.toFixed(3)}`;
    }),
    `  pool critical section ${cs.toFixed(0)} ns${command.cs === null ? ' (measured)' : ''}`,
    `model: lambda ${formatRate(model.lambda)} ops/s, sigma ${model.sigma.toExponential(2)}, kappa ${model.kappa.toExponential(2)}${model.superlinear ? ' (2 workers scaled better than linear: kappa set to 0)' : ''}`,
    'workers  predicted ops/s  efficiency  lock held  lock wait/acquire  shared RMWs/s',
    ...predictions.map((p) =>
      `${String(p.threads).padStart(7)}  ${formatRate(p.opsPerSec).padStart(15)}  ${(p.efficiency * 100).toFixed(0).padStart(9)}%  ` +
        `${(p.lockUtilisation * 100).toFixed(2).padStart(8)}%  ${(Number.isFinite(p.lockWaitNs) ? `${p.lockWaitNs.toFixed(1)} ns` : 'saturated').padStart(17)}  ${formatRate(p.sharedRmwPerSec).padStart(13)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

runMain('contention', main);
