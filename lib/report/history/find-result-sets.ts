/**
 * The result sets a history reads: each path given is a set (NAME or NAME.csv) or a folder searched
 * through for sets (results/, data/, moved-aside older runs, merged shards). The shards of a sharded
 * run are left out: their merge is the whole set, and a shard alone is part of one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { loadResultSet, type ResultSet } from "../../bench/matrix/compare";
import { COLUMNS } from "../../bench/matrix/results-csv";

// A set's CSV starts with the result columns (older sets lack some of the later ones, never the first).
const looksLikeResultSet = (csv: string) => readFileSync(csv, "utf8").slice(0, 200).startsWith(COLUMNS.slice(0, 8).join(","));

const WHAT_A_SET_IS = "a result set is NAME.csv with NAME.json beside it, written by npm run matrix";

const isShard = (set: ResultSet) => !set.record?.merged && (set.record?.sessions ?? []).some((s) => s.shard);

function csvFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return csvFilesUnder(file);
    return entry.isFile() && entry.name.endsWith(".csv") ? [file] : [];
  });
}

/**
 * Every result set under the paths (relative to root), each once, in path order; named relative to root.
 * A folder with none is an error, unless `searching` (the default folders looked through): then only
 * finding none anywhere is.
 */
export function findResultSets(paths: readonly string[], root: string = process.cwd(), { searching = false } = {}): ResultSet[] {
  if (paths.length === 0) throw new Error("no paths given: name result sets or folders that hold them (e.g. results data)");
  const csvs = paths.flatMap((p) => {
    const full = path.resolve(root, p);
    if (existsSync(full) && statSync(full).isDirectory()) {
      const found = csvFilesUnder(full).filter(looksLikeResultSet).sort();
      if (found.length === 0 && !searching) throw new Error(`no result sets in ${p}: ${WHAT_A_SET_IS}`);
      return found;
    }
    const csv = full.endsWith(".csv") ? full : `${full.replace(/\.json$/, "")}.csv`;
    if (!existsSync(full) && !existsSync(csv)) throw new Error(`${p} does not exist`);
    if (!existsSync(csv)) throw new Error(`no result set at ${p}: neither a folder nor a CSV written by npm run matrix`);
    return [csv];
  });
  if (csvs.length === 0) throw new Error(`no result sets in ${paths.join(", ")}: ${WHAT_A_SET_IS}`);
  const sets = [...new Set(csvs)].map((csv) => ({ ...loadResultSet(csv), name: path.relative(root, csv).replace(/\.csv$/, "") }));
  return sets.filter((s) => !isShard(s));
}
