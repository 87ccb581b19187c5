/**
 * Where result sets live. Commands write to results/ (git-ignored), so measuring never dirties the
 * checkout; data/ holds the committed reference sets and changes only when asked (--out data/NAME).
 * Notebooks show the newest set under results/, else the committed reference, and say which.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Shard } from './shards';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export const RESULTS_DIR = 'results';
export const REFERENCE_DIR = 'data';

/** The set a matrix writes unless told otherwise: results/PROFILE/matrix, a shard's results/PROFILE/shards/K-of-N. */
export function defaultOut(profile: string, shard: Shard | null = null): string {
  const dir = path.join(RESULTS_DIR, profile);
  return shard ? path.join(dir, 'shards', `${shard.index}-of-${shard.count}`) : path.join(dir, 'matrix');
}

/** Where an older set goes when reproduce starts afresh: beside it, still under results/. */
export function previousOut(out: string, date: Date = new Date()): string {
  return `${out}.before-${date.toISOString().replace(/[:.]/g, '-')}`;
}

export interface LocatedSet {
  /** The set's path without extension, relative to the project root. */
  path: string;
  kind: 'results' | 'reference';
  /** One line for the reader: which set this is and why. */
  note: string;
}

/**
 * The set a notebook shows for `profile`: the newest whole set in results/PROFILE/ (not shards, not
 * moved-aside ones), else the committed data/PROFILE, else data/quick.
 */
export function newestResultSet(profile: string, root: string = ROOT): LocatedSet {
  const dir = path.join(RESULTS_DIR, profile);
  const fresh = existsSync(path.join(root, dir))
    ? readdirSync(path.join(root, dir))
        .filter((f) => f.endsWith('.csv') && !f.includes('.before-'))
        .map((f) => ({ path: path.join(dir, f.slice(0, -'.csv'.length)), mtime: statSync(path.join(root, dir, f)).mtimeMs }))
        .sort((a, b) => b.mtime - a.mtime)
    : [];
  if (fresh.length) {
    return { path: fresh[0].path, kind: 'results', note: `showing the newest results for profile ${profile}: ${fresh[0].path}.csv` };
  }
  for (const name of [profile, 'quick']) {
    const reference = path.join(REFERENCE_DIR, name);
    if (existsSync(path.join(root, `${reference}.csv`))) {
      return {
        path: reference,
        kind: 'reference',
        note: `showing the committed reference set ${reference}.csv: no results under ${dir}/ yet (npm run matrix -- --profile ${profile} measures here)`,
      };
    }
  }
  throw new Error(`no result set: nothing under ${dir}/ and no ${REFERENCE_DIR}/${profile}.csv or ${REFERENCE_DIR}/quick.csv`);
}
