/**
 * The bundled traces in data/traces: recordings of real programs that a Debian machine with this
 * project's install has, chosen for different size mixes and lifetimes. `npm run trace -- bundle`
 * records them again (the ops differ a little from run to run: addresses, environment, dates) and
 * rewrites data/traces/manifest.json.
 */
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { recordTrace } from './record';
import { traceStats, type TraceStats } from './stats';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(__dirname, '..', '..');
export const BUNDLE_DIR = path.join(ROOT, 'data', 'traces');

export interface BundledTrace {
  name: string;
  /** What it shows about allocation. */
  about: string;
  /** The command line, run in the project's root; async where it asks the machine (e.g. gcc's paths). */
  command: () => Promise<string[]>;
  /** Variables added to its environment. */
  env?: Readonly<Record<string, string>>;
}

const PERL_WORDS =
  'my %h; for my $i (1..50000) { my $w = join "", map { chr(97 + ($i * $_) % 26) } 1..(3 + $i % 9); $h{$w}++; } ' +
  'print scalar(keys %h), "\\n"';

const SQLITE_SCRIPT =
  'CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL); ' +
  'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) ' +
  "INSERT INTO t SELECT i, printf('row-%d-%s', i, hex(i * 7919)), i * 0.5 FROM n; " +
  'CREATE INDEX tb ON t(b); SELECT a % 7, count(*), sum(length(b)) FROM t GROUP BY a % 7; ' +
  'SELECT b FROM t ORDER BY b DESC LIMIT 3;';

export const BUNDLED_TRACES: readonly BundledTrace[] = [
  {
    name: 'gcc-cc1',
    about: "gcc's compiler proper (cc1, which the gcc driver runs) compiling a C file with -O2: many small, mostly long-lived nodes",
    command: async () => {
      const cc1 = (await execFileAsync('gcc', ['-print-prog-name=cc1'])).stdout.trim();
      const triplet = (await execFileAsync('gcc', ['-print-multiarch'])).stdout.trim();
      return [cc1, '-quiet', '-imultiarch', triplet, '-O2', 'scripts/native/larson.c', '-o', '/dev/null'];
    },
  },
  {
    name: 'python3-json-regex',
    about:
      'CPython building 4,000 records, a JSON round trip and regular-expression tokenising; every object ' +
      'through malloc (PYTHONMALLOC=malloc), not its own small-object arenas',
    command: async () => ['/usr/bin/python3', 'data/traces/inputs/json-regex.py'],
    env: { PYTHONMALLOC: 'malloc' },
  },
  {
    name: 'git-log',
    about: "git showing this repository's last 200 commits with word diffs: object buffers of many sizes",
    command: async () => ['git', '--no-pager', 'log', '-p', '--word-diff', '-n', '200'],
  },
  {
    name: 'perl-words',
    about: 'perl counting 50,000 generated words in a hash: short strings, short lifetimes',
    command: async () => ['/usr/bin/perl', '-e', PERL_WORDS],
  },
  {
    name: 'sqlite3-index',
    about: 'sqlite3 filling an in-memory table of 50,000 rows, indexing and grouping it',
    command: async () => ['sqlite3', ':memory:', SQLITE_SCRIPT],
  },
];

export interface ManifestEntry {
  name: string;
  file: string;
  about: string;
  command: string[];
  env: Record<string, string>;
  program: string;
  version: string | null;
  date: string;
  exitCode: number | null;
  ops: number;
  counts: TraceStats['counts'];
  peakLiveBytes: number;
  threads: number;
}

/** The manifest's entries (data/traces/manifest.json, or `dir`'s), in the order BUNDLED_TRACES lists them. */
export function readManifest(dir = BUNDLE_DIR): ManifestEntry[] {
  return (JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { traces: ManifestEntry[] }).traces;
}

/** Records the bundled traces (all, or those named: names from BUNDLED_TRACES) into `dir`, updating its manifest.json. */
export async function recordBundle(
  dir = BUNDLE_DIR,
  only: readonly string[] = [],
  progress: (line: string) => void = () => {},
): Promise<ManifestEntry[]> {
  const manifestFile = path.join(dir, 'manifest.json');
  const previous = await fs
    .readFile(manifestFile, 'utf8')
    .then((text) => (JSON.parse(text) as { traces: ManifestEntry[] }).traces)
    .catch(() => [] as ManifestEntry[]);

  const entries = new Map(previous.map((e) => [e.name, e]));
  for (const bundled of BUNDLED_TRACES) {
    if (only.length && !only.includes(bundled.name)) continue;
    const file = `${bundled.name}.trace.gz`;
    const [command, ...args] = await bundled.command();
    progress(`recording ${bundled.name}: ${[command, ...args].join(' ').slice(0, 120)}`);
    const r = await recordTrace({ out: path.join(dir, file), command, args, env: bundled.env, cwd: ROOT, stdio: 'ignore' });
    const s = traceStats(r.trace);
    entries.set(bundled.name, {
      name: bundled.name,
      file,
      about: bundled.about,
      command: [command, ...args],
      env: { ...bundled.env },
      program: r.program,
      version: r.version,
      date: r.trace.comments.find((c) => c.startsWith('date: '))?.slice(6) ?? '',
      exitCode: r.exitCode,
      ops: s.ops,
      counts: s.counts,
      peakLiveBytes: s.peakLiveBytes,
      threads: s.threads,
    });
    progress(`  ${s.ops} ops, peak live ${s.peakLiveBytes} bytes, ${s.threads} thread(s)`);
  }
  const traces = BUNDLED_TRACES.map((b) => entries.get(b.name)).filter((e): e is ManifestEntry => e !== undefined);
  const manifest = {
    about:
      'Allocation traces of real programs (format: lib/trace/README.md), recorded with `npm run trace -- bundle` ' +
      "from the project's root. Recording again gives a little different ops (addresses, environment, dates, " +
      "this repository's history for git-log).",
    traces,
  };
  const tmp = `${manifestFile}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.rename(tmp, manifestFile);
  return traces;
}
