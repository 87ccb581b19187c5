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
import { writeGeneratedText } from './generated-text';
import { recordTrace } from './record';
import { clearSocket, driveRedis, REDIS_BENCHMARK_ARGS, redisServerArgs } from './redis-load';
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
  /** What it reads: a file shipped in data/traces/inputs, one generated, or the command line itself. */
  input: string;
  /** Runs beside the recording: a load for a server, which must make the server exit at the end. */
  drive?: () => Promise<void>;
}

/** Where generated inputs and the redis socket go (git-ignored), relative to the project's root (the commands' cwd). */
const SCRATCH = '.cache/trace-inputs';
const SED_TEXT = { file: `${SCRATCH}/sed-text.txt`, lines: 4000, seed: 42 };
const REDIS_SOCKET = `${SCRATCH}/redis.sock`;

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
    input: 'scripts/native/larson.c',
  },
  {
    name: 'python3-json-regex',
    about:
      'CPython building 4,000 records, a JSON round trip and regular-expression tokenising; every object ' +
      'through malloc (PYTHONMALLOC=malloc), not its own small-object arenas',
    command: async () => ['/usr/bin/python3', 'data/traces/inputs/json-regex.py'],
    env: { PYTHONMALLOC: 'malloc' },
    input: 'data/traces/inputs/json-regex.py',
  },
  {
    name: 'git-log',
    about: "git showing this repository's last 200 commits with word diffs: object buffers of many sizes",
    command: async () => ['git', '--no-pager', 'log', '-p', '--word-diff', '-n', '200'],
    input: "this repository's history",
  },
  {
    name: 'perl-words',
    about: 'perl counting 50,000 generated words in a hash: short strings, short lifetimes',
    command: async () => ['/usr/bin/perl', '-e', PERL_WORDS],
    input: 'the script on the command line',
  },
  {
    name: 'sqlite3-index',
    about: 'sqlite3 filling an in-memory table of 50,000 rows, indexing and grouping it',
    command: async () => ['sqlite3', ':memory:', SQLITE_SCRIPT],
    input: 'the SQL on the command line',
  },
  // mimalloc-bench's real programs that Debian ships (apt-get install ghostscript sed lua5.4 z3 redis-server redis-tools).
  {
    name: 'gs-pages',
    about:
      "Ghostscript interpreting ten generated PostScript pages (text in three fonts, curves, fills) with no output device " +
      '(-dNODISPLAY): its interpreter serves itself from large chunks; what reaches malloc is mostly the same four request ' +
      'sizes (248 B twice, 3,872 B, 24,968 B and 172,120 B) allocated and freed again within a few ops, 18,560 times',
    command: async () => ['gs', '-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-dNODISPLAY', 'data/traces/inputs/pages.ps'],
    input: 'data/traces/inputs/pages.ps',
  },
  {
    name: 'sed-rewrite',
    about:
      'GNU sed rewriting 4,000 generated lines with two regular-expression substitutions (back references, case ' +
      "conversion): the regex matcher's short-lived state and the line buffers it grows with realloc",
    command: async () => {
      await writeGeneratedText(path.join(ROOT, SED_TEXT.file), SED_TEXT.lines, SED_TEXT.seed);
      return ['sed', '-E', '-e', 's/([a-z]+)-([0-9]+)/\\2=\\1/g', '-e', 's/(^| )([a-z])/\\1\\u\\2/g', SED_TEXT.file];
    },
    input: `${SED_TEXT.file}: generatedText(${SED_TEXT.lines}, ${SED_TEXT.seed}) from lib/trace/generated-text.ts, written before recording`,
  },
  {
    name: 'lua-objects',
    about:
      'Lua 5.4 building binary trees, 20,000 strings in a table used as a map, and closures: the interpreter allocates ' +
      'through realloc and frees at garbage collection, mostly 16-63-byte objects',
    command: async () => ['lua5.4', 'data/traces/inputs/objects.lua'],
    input: 'data/traces/inputs/objects.lua',
  },
  {
    name: 'z3-queens',
    about:
      'Z3 solving 10 queens in linear integer arithmetic ten times under push/pop: short-lived 32-63-byte solver terms ' +
      '(half freed within 2 ops) beside two 8 MB tables',
    command: async () => ['z3', 'data/traces/inputs/queens.smt2'],
    input: 'data/traces/inputs/queens.smt2',
  },
  {
    name: 'python3-threaded-pipeline',
    about:
      'CPython running a two-stage pipeline on three threads: the main thread builds batches of records, two workers ' +
      'encode them as JSON and tokenise them, summaries go back (PYTHONMALLOC=malloc): blocks born on one thread and ' +
      'freed on another, both ways; replayed with a thread per recorded thread',
    command: async () => ['/usr/bin/python3', 'data/traces/inputs/threaded-pipeline.py'],
    env: { PYTHONMALLOC: 'malloc' },
    input: 'data/traces/inputs/threaded-pipeline.py',
  },
  {
    name: 'redis-server',
    about:
      'redis-server answering redis-benchmark over a Unix socket (50 clients; SET, GET, INCR, LPUSH, RPOP, SADD, HSET, SPOP ' +
      "and LRANGE_100, 5,000 requests each, 64-byte values, 5,000 random keys): the server's malloc calls (Debian links " +
      'it with jemalloc, which serves them): three quarters 16-31-byte objects; the keyspace, 2.5 MB in 43,000 blocks, ' +
      'still live when it shuts down',
    command: async () => {
      await fs.mkdir(path.join(ROOT, SCRATCH), { recursive: true });
      await clearSocket(path.join(ROOT, REDIS_SOCKET));
      return ['redis-server', ...redisServerArgs(REDIS_SOCKET)];
    },
    input: `requests from redis-benchmark -s ${REDIS_SOCKET} ${REDIS_BENCHMARK_ARGS.join(' ')} (lib/trace/redis-load.ts), then SHUTDOWN NOSAVE`,
    drive: () => driveRedis(path.join(ROOT, REDIS_SOCKET)),
  },
];

export interface ManifestEntry {
  name: string;
  file: string;
  about: string;
  command: string[];
  env: Record<string, string>;
  input: string;
  program: string;
  version: string | null;
  date: string;
  exitCode: number | null;
  ops: number;
  counts: TraceStats['counts'];
  peakLiveBytes: number;
  threads: number;
}

/** The traces in a bundle's manifest (default: the committed data/traces), with each file's path. */
export function readManifest(dir = BUNDLE_DIR): Array<ManifestEntry & { path: string }> {
  const manifestFile = path.join(dir, 'manifest.json');
  const { traces } = JSON.parse(readFileSync(manifestFile, 'utf8')) as { traces: ManifestEntry[] };
  return traces.map((t) => ({ ...t, path: path.join(dir, t.file) }));
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
    // Written aside and renamed once the recording and its load both succeeded.
    const aside = path.join(dir, `${bundled.name}.${process.pid}.tmp.trace.gz`);
    const [recorded, driven] = await Promise.allSettled([
      recordTrace({ out: aside, command, args, env: bundled.env, cwd: ROOT, stdio: 'ignore' }),
      bundled.drive?.(),
    ]);
    if (recorded.status === 'rejected' || driven.status === 'rejected') {
      await fs.rm(aside, { force: true });
      throw recorded.status === 'rejected' ? recorded.reason : (driven as PromiseRejectedResult).reason;
    }
    await fs.rename(aside, path.join(dir, file));
    const r = recorded.value;
    const s = traceStats(r.trace);
    entries.set(bundled.name, {
      name: bundled.name,
      file,
      about: bundled.about,
      command: [command, ...args],
      env: { ...bundled.env },
      input: bundled.input,
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
      'Allocation traces of real programs (format: lib/trace/README.md), recorded with `npm run trace -- bundle [NAME...]` ' +
      "from the project's root; `input` says what each read. gs-pages, sed-rewrite, lua-objects, z3-queens and " +
      'redis-server are programs of the mimalloc-bench suite as Debian ships them (apt-get install ghostscript sed lua5.4 ' +
      'z3 redis-server redis-tools). Recording again gives a little different ops (addresses, environment, dates, ' +
      "this repository's history for git-log, request timing for redis-server).",
    traces,
  };
  const tmp = `${manifestFile}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.rename(tmp, manifestFile);
  return traces;
}
