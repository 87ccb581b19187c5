/**
 * Splitting a matrix plan into N shards that run on different machines (or job-runner tasks) and
 * merge back into one set (merge.ts). A shard takes whole cells (bench x size x threads x engine):
 * every allocator of a cell, the system baseline included, runs in the same shard, so each ratio
 * to the baseline is measured on one machine. Cells go round-robin, so shards get alike mixes.
 */
import { UsageError } from '../cli-args';

/** Shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** The environment variables job runners number their tasks with, and the first number they use. */
export const SHARD_INDEX_VARIABLES = [
  { name: 'SLURM_ARRAY_TASK_ID', first: 1 }, // #SBATCH --array=1-N
  { name: 'JOB_COMPLETION_INDEX', first: 0 }, // Kubernetes Indexed Job: 0..N-1
] as const;

/** `K/N` (K from 1 to N), or `auto/N`: K from SLURM_ARRAY_TASK_ID (1-based) or JOB_COMPLETION_INDEX (0-based). */
export function parseShard(text: string, env: Record<string, string | undefined> = process.env): Shard {
  const m = /^(\d+|auto)\/(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--shard '${text}': expected K/N (shard K of N, K from 1 to N) or auto/N`);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard '${text}': N must be at least 1`);
  const index = m[1] === 'auto' ? indexFromEnv(text, env) : Number(m[1]);
  if (index < 1 || index > count) {
    throw new UsageError(`--shard '${text}': shard ${index} of ${count} does not exist (K runs from 1 to ${count})`);
  }
  return { index, count };
}

function indexFromEnv(text: string, env: Record<string, string | undefined>): number {
  for (const { name, first } of SHARD_INDEX_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^\d+$/.test(value)) throw new UsageError(`--shard '${text}': ${name} is '${value}', not a task number`);
    return Number(value) - first + 1;
  }
  throw new UsageError(
    `--shard '${text}': none of ${SHARD_INDEX_VARIABLES.map((v) => v.name).join(', ')} is set (run it as a job-array task, or give K/N)`,
  );
}

/** The cells of `items` in first-seen order, shard `shard` of them taking every count-th from index-1. */
export function shardItems<T>(items: readonly T[], cellOf: (item: T) => string, shard: Shard): T[] {
  const order = new Map<string, number>();
  for (const item of items) if (!order.has(cellOf(item))) order.set(cellOf(item), order.size);
  return items.filter((item) => (order.get(cellOf(item)) as number) % shard.count === shard.index - 1);
}

export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
