/**
 * `npm run matrix -- merge OUT SHARD...`: joins the result sets of the N shards of one plan
 * (shards.ts) into one set. Each shard must be whole and of the same code and plan; anything else
 * is refused with the reason, before anything is written. Each shard's sessions keep their
 * provenance, so the merged set still says which machine measured which cell.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllocatorSpecs } from './matrix-args';
import { MATRIX_BENCHES, cellOf, planRuns, rowKey, runKey, runLabel, type MatrixRecord, type SessionRecord } from './matrix';
import { cellRatios, type CellRatio } from './cell-ratios';
import { machineOf } from './provenance';
import { readRows, writeRows, type CsvRow } from './results-csv';
import { shardLabel, type Shard } from './shards';

export class MergeError extends Error {}

interface ShardSet {
  /** The set's path without extension. */
  source: string;
  record: MatrixRecord;
  rows: CsvRow[];
  /** The session whose plan the shard ran (the last one that wrote rows, else the last). */
  session: SessionRecord;
  shard: Shard;
}

export interface MachineRatios {
  machine: string;
  shards: number[];
  /** Each measured allocator's median over the system baseline's in the same cell. */
  ratios: CellRatio[];
}

export interface MergeSummary {
  csv: string;
  json: string;
  shards: number;
  rows: number;
  machines: MachineRatios[];
}

export function mergeShards(out: string, sources: readonly string[]): MergeSummary {
  const csv = `${out}.csv`;
  const json = `${out}.json`;
  for (const file of [csv, json]) {
    if (existsSync(file)) throw new MergeError(`${file} already exists: merge writes a new set, so choose another OUT (or remove it)`);
  }
  const sets = expandSources(sources).map(loadShard);
  checkSamePlan(sets);
  checkSameCode(sets);
  checkRuns(sets);

  const rows = sets.flatMap((s) => s.rows);
  const record: MatrixRecord = {
    csv: path.basename(csv),
    workload: sets[0].record.workload,
    sessions: sets.flatMap((s) => s.record.sessions),
    merged: sets.map((s) => ({ shard: s.shard, source: s.source, machine: machineOf(s.session.provenance) })),
  };
  mkdirSync(path.dirname(csv), { recursive: true });
  const tmp = `${json}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  writeRows(csv, rows);
  renameSync(tmp, json);
  return { csv, json, shards: sets.length, rows: rows.length, machines: machineRatios(sets) };
}

/** Each source is a set's path (with or without .csv/.json) or a folder of sets. */
function expandSources(sources: readonly string[]): string[] {
  return sources.flatMap((source) => {
    if (existsSync(source) && statSync(source).isDirectory()) {
      const sets = readdirSync(source)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(source, f.slice(0, -'.json'.length)));
      if (sets.length === 0) throw new MergeError(`${source}: no result sets in this folder (expected NAME.json with NAME.csv)`);
      return sets;
    }
    const set = source.replace(/\.(csv|json)$/, '');
    if (!existsSync(`${set}.json`)) throw new MergeError(`no result set at ${set}.json`);
    return [set];
  });
}

function loadShard(source: string): ShardSet {
  let record: MatrixRecord;
  try {
    record = JSON.parse(readFileSync(`${source}.json`, 'utf8')) as MatrixRecord;
  } catch (e) {
    throw new MergeError(`${source}.json: not readable as a matrix provenance record (${(e as Error).message})`);
  }
  if (!Array.isArray(record.sessions) || record.sessions.length === 0) {
    throw new MergeError(`${source}.json: not a matrix provenance record (no sessions)`);
  }
  let read;
  try {
    read = readRows(`${source}.csv`);
  } catch (e) {
    throw new MergeError((e as Error).message);
  }
  if (read.partialTail) {
    throw new MergeError(
      `${source}.csv: its last line is cut off (the shard was interrupted mid-write): rerun that shard's command to finish it, then merge`,
    );
  }
  const writers = record.sessions.filter((s) => s.rowsWritten > 0);
  const session = writers.at(-1) ?? (record.sessions.at(-1) as SessionRecord);
  const shard = session.shard;
  if (!shard) throw new MergeError(`${source}: not a shard (its matrix ran the whole plan, without --shard)`);
  const plans = new Set([...writers, session].map(planKey));
  if (plans.size > 1) throw new MergeError(`${source}: its sessions ran different plans: ${[...plans].join(' / ')}`);
  return { source, record, rows: read.rows, session, shard };
}

/** What a session ran, shard index aside: equal keys, slices of one plan. */
function planKey(s: SessionRecord): string {
  return JSON.stringify({
    profile: s.profile,
    cycles: s.cycles,
    reps: s.reps,
    allocators: s.allocators,
    threads: s.threads,
    engines: s.engines ?? ['node'],
    benches: s.benches ?? MATRIX_BENCHES,
    traces: s.traces ?? [],
    loops: s.loops ?? null,
    build: s.build ?? 'release',
    shards: s.shard?.count ?? null,
  });
}

function checkSamePlan(sets: ShardSet[]): void {
  const where = (s: ShardSet) => `${s.source} (shard ${shardLabel(s.shard)})`;
  const profiles = new Set(sets.map((s) => s.session.profile));
  if (profiles.size > 1) {
    throw new MergeError(`the shards ran different profiles: ${sets.map((s) => `${s.session.profile} in ${where(s)}`).join(', ')}`);
  }
  const plans = new Set(sets.map((s) => planKey(s.session)));
  if (plans.size > 1) {
    throw new MergeError(`the shards ran different plans: ${sets.map((s) => `${where(s)}: ${planKey(s.session)}`).join('; ')}`);
  }
  const count = sets[0].shard.count;
  for (let index = 1; index <= count; index++) {
    const given = sets.filter((s) => s.shard.index === index);
    if (given.length > 1) throw new MergeError(`shard ${index}/${count} is given twice: ${given.map((s) => s.source).join(' and ')}`);
    if (given.length === 0) {
      throw new MergeError(
        `shard ${index}/${count} is missing (given: ${sets.map((s) => shardLabel(s.shard)).join(', ')}): merge needs all ${count}`,
      );
    }
  }
}

/** Every session and row of every shard from one commit, with the same uncommitted changes if any. */
function checkSameCode(sets: ShardSet[]): void {
  const where = (s: ShardSet) => `shard ${shardLabel(s.shard)} (${s.source})`;
  const commits = new Map<string, string>();
  const digests = new Map<string, string>();
  for (const s of sets) {
    const sessions = s.record.sessions.filter((x) => x.rowsWritten > 0 || x === s.session).map((x) => x.provenance);
    const code = (commit: string | null, dirty: boolean) => `${commit?.slice(0, 10) ?? 'no commit'}${dirty ? ' (dirty)' : ''}`;
    for (const c of [...sessions.map((p) => code(p.commit, p.dirty)), ...s.rows.map((r) => code(r.commit || null, r.dirty === 'true'))]) {
      if (!commits.has(c)) commits.set(c, where(s));
    }
    for (const p of sessions) if (p.dirtyDigest && !digests.has(p.dirtyDigest)) digests.set(p.dirtyDigest, where(s));
  }
  const list = (m: Map<string, string>) => [...m].map(([c, w]) => `${c} in ${w}`).join(', ');
  if (commits.size > 1) throw new MergeError(`the shards were measured at different commits: ${list(commits)}: rerun them at one commit`);
  if (digests.size > 1) throw new MergeError(`the shards were measured with different uncommitted changes: ${list(digests)}`);
}

/** Each shard holds exactly its slice's runs, once each; together the slices are the whole plan. */
function checkRuns(sets: ShardSet[]): void {
  const s0 = sets[0].session;
  const plan = {
    reps: s0.reps,
    allocators: parseAllocatorSpecs(s0.allocators.join(',')),
    threads: s0.threads,
    engines: s0.engines ?? ['node'],
    benches: s0.benches ?? MATRIX_BENCHES,
    traces: s0.traces ?? [],
  };
  const build = s0.build ?? 'release';
  for (const s of sets) {
    const expected = new Map(planRuns({ ...plan, shard: s.shard }).map((run) => [runKey(run, build), run]));
    const seen = new Set<string>();
    for (const row of s.rows) {
      const key = rowKey(row);
      if (seen.has(key)) throw new MergeError(`${s.source}.csv holds the run ${key} twice`);
      seen.add(key);
      if (!expected.has(key)) {
        throw new MergeError(`${s.source}.csv holds the run ${key}, which is not in shard ${shardLabel(s.shard)} of its plan`);
      }
    }
    const missing = [...expected].filter(([key]) => !seen.has(key));
    if (missing.length) {
      throw new MergeError(
        `${s.source} (shard ${shardLabel(s.shard)}) lacks ${missing.length} of its ${expected.size} runs, e.g. ` +
          `${runLabel(missing[0][1])}: rerun its command to finish it, then merge`,
      );
    }
  }
  const all = new Set(planRuns(plan).map(cellOf));
  const merged = new Set(sets.flatMap((s) => s.rows.map((r) => cellOf(r))));
  if (all.size !== merged.size) throw new MergeError(`the shards cover ${merged.size} of the plan's ${all.size} cells`);
}

function machineRatios(sets: ShardSet[]): MachineRatios[] {
  const byMachine = new Map<string, ShardSet[]>();
  for (const s of sets) {
    const m = machineOf(s.session.provenance);
    byMachine.set(m, [...(byMachine.get(m) ?? []), s]);
  }
  return [...byMachine].map(([machine, shards]) => ({
    machine,
    shards: shards.map((s) => s.shard.index).sort((a, b) => a - b),
    ratios: cellRatios(shards.flatMap((s) => s.rows)),
  }));
}
