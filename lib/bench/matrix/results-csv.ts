/**
 * A result set on disk: data/NAME.csv, one row per repetition, tidy (one
 * observation per row, one variable per column), appended row by row so an
 * interrupted run keeps everything it measured.
 *
 * Columns:
 *   bench        fixed | random-mixed | cross-thread | replay
 *   size         the size label: "128" for fixed, "16..1024" for random-mixed and cross-thread,
 *                the trace's name for replay
 *   min, max     block sizes drawn from min..max (empty for replay)
 *   cycles, ws, seed   the workload (WORKLOADS.md); replay: cycles holds --loops, ws and seed are empty
 *   allocator    hakmem, system, mimalloc, jemalloc, tcmalloc, v8, thing, wasm-dlmalloc, wasm-emmalloc, wasm-emdlmalloc
 *   preset, build, align, configHash   hakmem's resolved configuration (empty otherwise); align is
 *                the block alignment (1: the 1-byte header; 8, 16: header-free)
 *   threads      thread count
 *   engine, engineVersion   the JS engine (node = the node running the matrix; node20, bun, ...
 *                pinned in engines.json) and its version
 *   rep          repetition number from 1
 *   ops, seconds, opsPerSec     the measurement (empty when skipped)
 *   peakLiveBytes, peakHeapBytes   empty where unknown
 *   peakFootprintBytes, utilization   replay: the memory the allocator held at most, and peak live
 *                bytes over it (empty for the other benches and where unknown: v8)
 *   footprintByStatsBytes   replay, native allocators and hakmem: the peak by the allocator's own statistics
 *   harnessNsPerOp, allocatorNsPerOp   replay: the oracle's ns per op (the loop doing no allocator
 *                work) and the rest, the allocator's own (empty where the oracle did not run)
 *   harnessBestPassNsPerOp, allocatorBestPassNsPerOp   replay: the same from the fastest timed pass
 *                of each, the steadier reading where the machine's speed changes between passes
 *   fingerprint  mallocs/frees/bytes/hash: equal fingerprints, same work
 *   skipped      why the baseline could not run here (empty when it ran)
 *   commit, dirty   the code it was measured with (lib/bench/matrix/provenance.ts)
 *
 * Sets written before the align, engine, footprint, oracle or fastest-pass columns still read: their
 * hakmem rows as align 1 (every block had the 1-byte header), every row as engine node, version ''
 * (the node in their record), no footprint.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';

export const COLUMNS = [
  'bench',
  'size',
  'min',
  'max',
  'cycles',
  'ws',
  'seed',
  'allocator',
  'preset',
  'build',
  'align',
  'configHash',
  'threads',
  'engine',
  'engineVersion',
  'rep',
  'ops',
  'seconds',
  'opsPerSec',
  'peakLiveBytes',
  'peakHeapBytes',
  'peakFootprintBytes',
  'utilization',
  'footprintByStatsBytes',
  'harnessNsPerOp',
  'allocatorNsPerOp',
  'harnessBestPassNsPerOp',
  'allocatorBestPassNsPerOp',
  'fingerprint',
  'skipped',
  'commit',
  'dirty',
] as const;

export type Column = (typeof COLUMNS)[number];

/** A row as strings, as stored; '' is an empty cell. */
export type CsvRow = Record<Column, string>;

const HEADER = COLUMNS.join(',');

/**
 * A replay row's allocator-only ns per op as comparisons and reports read it: its fastest timed
 * pass's, the steadier reading where the machine's speed changes between passes (a sum mixes fast
 * and slow passes); the sums' in sets written before that column; null where the oracle did not run.
 */
export function allocatorOnlyNsPerOp(row: Partial<Pick<CsvRow, 'allocatorNsPerOp' | 'allocatorBestPassNsPerOp'>>): number | null {
  const cell = row.allocatorBestPassNsPerOp || row.allocatorNsPerOp;
  return cell === undefined || cell === '' ? null : Number(cell);
}

/** Columns added since the first result sets, and what an older set's rows read for them. */
const ADDED_COLUMNS: Partial<Record<Column, (row: CsvRow) => string>> = {
  align: (row) => (row.allocator === 'hakmem' ? '1' : ''),
  engine: () => 'node',
  engineVersion: () => '',
  peakFootprintBytes: () => '',
  utilization: () => '',
  footprintByStatsBytes: () => '',
  harnessNsPerOp: () => '',
  allocatorNsPerOp: () => '',
  harnessBestPassNsPerOp: () => '',
  allocatorBestPassNsPerOp: () => '',
};

/**
 * Appends one row and makes it durable before returning (fsync): a crash or
 * Ctrl-C afterwards cannot lose it. Writes the header first if the file is new.
 */
export function appendRow(file: string, row: CsvRow): void {
  const fresh = !existsSync(file) || statSync(file).size === 0;
  const text = `${fresh ? `${HEADER}\n` : ''}${COLUMNS.map((c) => quote(row[c])).join(',')}\n`;
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface ReadResult {
  rows: CsvRow[];
  /** A last line cut short (the writer died mid-line); it is not in `rows`. */
  partialTail: boolean;
  /** Written before some of today's columns: appending needs the set rewritten first (writeRows). */
  legacy: boolean;
}

/** Reads a result set; an absent file is an empty one. Rejects a file with other columns. */
export function readRows(file: string): ReadResult {
  if (!existsSync(file)) return { rows: [], partialTail: false, legacy: false };
  const text = readFileSync(file, 'utf8');
  if (text === '') return { rows: [], partialTail: false, legacy: false };
  const partialTail = !text.endsWith('\n');
  const records = parseCsv(partialTail ? text.slice(0, text.lastIndexOf('\n') + 1) : text);
  const [header, ...body] = records;
  // A set from before some added columns has today's columns in order, less some of those.
  const missing = COLUMNS.filter((c) => !header?.includes(c));
  const legacy =
    header !== undefined &&
    missing.length > 0 &&
    missing.every((c) => c in ADDED_COLUMNS) &&
    header.join(',') === COLUMNS.filter((c) => !missing.includes(c)).join(',');
  if (header === undefined || !(legacy || header.join(',') === HEADER)) {
    throw new Error(
      `${file}: its columns are not those of a result set (${HEADER}); ` + `found ${header?.join(',') ?? 'nothing'}`,
    );
  }
  const rows = body.map((fields, i) => {
    if (fields.length !== header.length) {
      throw new Error(`${file}: row ${i + 2} has ${fields.length} fields, expected ${header.length}`);
    }
    const row = Object.fromEntries(header.map((c, j) => [c, fields[j]])) as CsvRow;
    for (const c of missing) row[c] = ADDED_COLUMNS[c]!(row);
    return row;
  });
  return { rows, partialTail, legacy };
}

/** Writes a whole set (aside, then renamed over `file`): an older set gets today's columns, a merge its rows. */
export function writeRows(file: string, rows: readonly CsvRow[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, [HEADER, ...rows.map((row) => COLUMNS.map((c) => quote(row[c])).join(','))].join('\n') + '\n');
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Cuts a last line that a dead writer left unfinished, so appends start on a fresh line. */
export function dropPartialTail(file: string): void {
  const text = readFileSync(file, 'utf8');
  truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
}

function quote(field: string): string {
  return /[",\n\r]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n') {
      fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
      records.push(fields);
      fields = [];
      field = '';
    } else field += ch;
  }
  return records;
}
