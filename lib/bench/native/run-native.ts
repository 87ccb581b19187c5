/**
 * The native baselines: the C harnesses in scripts/native, compiled on first
 * use with the machine's C compiler into .cache/native (rebuilt when the
 * source or the flags change), run with glibc malloc (`system`) or with
 * mimalloc / jemalloc / tcmalloc preloaded from their Debian packages.
 * Whatever cannot run here is returned as `{ skipped: reason }`, never faked.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Fingerprint } from '../workloads/random-mixed';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SOURCE_DIR = path.join(ROOT, 'scripts', 'native');
const DEFAULT_CACHE_DIR = path.join(ROOT, '.cache', 'native');
const CFLAGS = ['-std=c11', '-O2', '-pthread'];

export const NATIVE_ALLOCATORS = ['system', 'mimalloc', 'jemalloc', 'tcmalloc'] as const;
export type NativeAllocator = (typeof NATIVE_ALLOCATORS)[number];

/** One binary each; `fixed` is random-mixed with MIN = MAX. */
export const NATIVE_BENCHES = ['random-mixed', 'larson', 'cross-thread', 'replay'] as const;
export type NativeBench = (typeof NATIVE_BENCHES)[number];

const PRELOADS: Record<Exclude<NativeAllocator, 'system'>, { soname: string; debianPackage: string }> = {
  mimalloc: { soname: 'libmimalloc.so.2', debianPackage: 'libmimalloc2.0' },
  jemalloc: { soname: 'libjemalloc.so.2', debianPackage: 'libjemalloc2' },
  tcmalloc: { soname: 'libtcmalloc_minimal.so.4', debianPackage: 'libtcmalloc-minimal4' },
};

export interface NativeOptions {
  /** The C compiler command; default $CC, else `cc`. */
  cc?: string;
  /** The library to preload, instead of looking the allocator's one up. */
  library?: string;
  /** Where binaries are cached; default <project>/.cache/native. */
  cacheDir?: string;
}

export interface NativeResult {
  allocator: NativeAllocator;
  bench: NativeBench;
  args: string[];
  ops: number;
  seconds: number;
  opsPerSecond: number;
  fingerprint: Fingerprint;
  threads: number;
  /** The preloaded library, null for `system`. */
  library: string | null;
  /** The harness's whole JSON line, for the fields one bench adds (replay: footprint, timeline, latency). */
  line: Record<string, unknown>;
}

export interface Skipped {
  skipped: string;
}

export interface NativeAvailability {
  allocator: NativeAllocator;
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  library: string | null;
}

export function isSkipped<T>(r: T | Skipped): r is Skipped {
  return typeof r === 'object' && r !== null && 'skipped' in r;
}

/**
 * Runs one native benchmark, e.g. `runNative('mimalloc', 'random-mixed',
 * [20_000_000, 400, 1, 16, 1024])`; args are the harness's command line
 * (WORKLOADS.md). Rejects when the harness fails (bad arguments included).
 */
export async function runNative(
  allocator: NativeAllocator,
  bench: NativeBench,
  args: readonly (string | number)[],
  options: NativeOptions = {},
): Promise<NativeResult | Skipped> {
  if (!NATIVE_ALLOCATORS.includes(allocator)) throw new Error(`unknown native allocator '${allocator}'`);
  const binary = await buildNative(bench, options);
  if (isSkipped(binary)) return binary;
  const preload = await preloadLibrary(allocator, options);
  if (isSkipped(preload)) return preload;
  const library = preload.path;

  const argv = args.map(String);
  const env = { ...process.env };
  delete env.LD_PRELOAD; // `system` must be glibc even if the caller preloads something
  if (library !== null) env.LD_PRELOAD = library;
  let out: { stdout: string; stderr: string };
  try {
    // Room for a replay's timeline and latency buckets.
    out = await execFileAsync(binary, argv, { env, maxBuffer: 1 << 28 });
  } catch (e) {
    const err = e as { code?: unknown; stderr?: string };
    throw new Error(
      `native ${bench} ${argv.join(' ')} (${allocator}) failed with exit code ${String(err.code)}: ` +
        (err.stderr ?? '').trim(),
    );
  }
  // The loader only warns about a library it cannot preload and runs glibc instead.
  const ignored = out.stderr.split('\n').find((l) => l.includes('cannot be preloaded'));
  if (ignored) return { skipped: `${allocator}: ${ignored.trim()}` };

  const line = parseHarnessLine(out.stdout, bench);
  if ('outOfMemory' in line) return { skipped: `${allocator}: ${line.outOfMemory}` };
  return {
    allocator,
    bench,
    args: argv,
    ops: line.ops,
    seconds: line.seconds,
    opsPerSecond: line.ops / line.seconds,
    fingerprint: line.fingerprint,
    threads: line.threads,
    library,
    line: line.line,
  };
}

/** Each native allocator, and whether a tiny run of it works on this machine. */
export async function nativeAvailability(
  options: Omit<NativeOptions, 'library'> = {},
): Promise<NativeAvailability[]> {
  const rows: NativeAvailability[] = [];
  for (const allocator of NATIVE_ALLOCATORS) {
    const r = await runNative(allocator, 'random-mixed', [1000, 16, 1, 16, 64], options);
    rows.push(
      isSkipped(r)
        ? { allocator, available: false, reason: r.skipped, library: null }
        : { allocator, available: true, library: r.library },
    );
  }
  return rows;
}

/** The path of the bench's binary, compiled now unless the cached one matches its source. */
export async function buildNative(bench: NativeBench, options: NativeOptions = {}): Promise<string | Skipped> {
  if (!NATIVE_BENCHES.includes(bench)) throw new Error(`unknown native bench '${bench}'`);
  return buildC({ source: `${bench}.c`, headers: NATIVE_HEADERS[bench], output: bench }, options);
}

/** The headers each harness includes: part of what its binary was built from. */
const NATIVE_HEADERS: Record<NativeBench, readonly string[]> = {
  'random-mixed': ['harness.h'],
  larson: ['harness.h'],
  'cross-thread': ['harness.h'],
  replay: ['harness.h', 'hdr.h', 'trace-format.h'],
};

/** A C source in scripts/native and what to build from it into the cache folder. */
export interface NativeTarget {
  source: string;
  /** Headers in scripts/native it includes: a change to them rebuilds it. */
  headers: readonly string[];
  /** The file name in the cache folder. */
  output: string;
  /** Compiler flags besides the common ones, e.g. ['-shared', '-fPIC'] for a shared object. */
  flags?: readonly string[];
  /** Libraries to link, after the source, e.g. ['-ldl']. */
  libs?: readonly string[];
}

/** The path of the target's output, compiled now unless the cached one matches its sources and flags. */
export async function buildC(target: NativeTarget, options: Omit<NativeOptions, 'library'> = {}): Promise<string | Skipped> {
  const cc = compilerOf(options);
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const source = path.join(SOURCE_DIR, target.source);
  const argv = [...CFLAGS, ...(target.flags ?? []), source, ...(target.libs ?? [])];
  const hash = createHash('sha256').update([cc, ...argv].join(' '));
  for (const file of [source, ...target.headers.map((h) => path.join(SOURCE_DIR, h))]) {
    hash.update('\0').update(await fs.readFile(file));
  }
  const digest = hash.digest('hex');
  const binary = path.join(cacheDir, target.output);
  const hashFile = `${binary}.sha256`;
  const cached = await fs.readFile(hashFile, 'utf8').catch(() => '');
  if (cached === digest && existsSync(binary)) return binary;

  const key = `${binary}\0${digest}`;
  let build = builds.get(key);
  if (!build) {
    build = compile(cc, argv, binary, hashFile, digest);
    builds.set(key, build);
    const settled = () => builds.delete(key);
    build.then(settled, settled);
  }
  return build;
}

/** The C compiler: the option, else $CC, else cc. */
function compilerOf(options: NativeOptions): string {
  return options.cc ?? process.env.CC ?? 'cc';
}

/** Builds in flight in this process, so concurrent callers compile once. */
const builds = new Map<string, Promise<string | Skipped>>();

async function compile(
  cc: string,
  argv: readonly string[],
  binary: string,
  hashFile: string,
  hash: string,
): Promise<string | Skipped> {
  await fs.mkdir(path.dirname(binary), { recursive: true });
  // Written aside and renamed: other processes may be running the old binary.
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    await execFileAsync(cc, [...argv, '-o', tmp]);
  } catch (e) {
    const err = e as { code?: unknown; stderr?: string };
    if (err.code === 'ENOENT') return { skipped: `no C compiler: '${cc}' is not installed` };
    throw new Error(`compiling ${argv.join(' ')} with ${cc} failed: ${(err.stderr ?? String(e)).trim()}`);
  }
  await fs.rename(tmp, binary);
  await fs.writeFile(`${hashFile}.${process.pid}.tmp`, hash);
  await fs.rename(`${hashFile}.${process.pid}.tmp`, hashFile);
  return binary;
}

/** The library to preload (path null for `system`), or why there is none. */
async function preloadLibrary(allocator: NativeAllocator, options: NativeOptions): Promise<{ path: string | null } | Skipped> {
  if (allocator === 'system') {
    if (options.library !== undefined) throw new Error('system runs glibc malloc: it takes no preload library');
    return { path: null };
  }
  if (options.library !== undefined) {
    return existsSync(options.library)
      ? { path: path.resolve(options.library) }
      : { skipped: `${allocator}: preload library ${options.library} does not exist` };
  }
  const { soname, debianPackage } = PRELOADS[allocator];
  const found = await findLibrary(soname, compilerOf(options));
  return found !== null ? { path: found } : { skipped: `${allocator}: ${soname} not found (install the Debian package ${debianPackage})` };
}

/** Where the dynamic loader would find `soname`: its cache first, then the usual library folders. */
async function findLibrary(soname: string, cc: string): Promise<string | null> {
  const cached = (await loaderCache()).get(soname);
  if (cached) return cached;
  const triplet = await execFileAsync(cc, ['-print-multiarch'])
    .then((r) => r.stdout.trim())
    .catch(() => '');
  const dirs = [
    ...(triplet ? [`/usr/lib/${triplet}`, `/lib/${triplet}`] : []),
    '/usr/local/lib',
    '/usr/lib64',
    '/usr/lib',
    '/lib',
  ];
  return dirs.map((d) => path.join(d, soname)).find((p) => existsSync(p)) ?? null;
}

let loaderCacheEntries: Promise<Map<string, string>> | undefined;

/** `ldconfig -p`, soname -> path, keeping only libraries of this process's architecture. */
function loaderCache(): Promise<Map<string, string>> {
  loaderCacheEntries ??= (async () => {
    const archTag = ({ x64: 'x86-64', arm64: 'AArch64' } as Record<string, string>)[process.arch];
    // ldconfig lives in sbin, which is not on every user's PATH.
    for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
      const out = await execFileAsync(ldconfig, ['-p']).catch(() => null);
      if (!out) continue;
      const map = new Map<string, string>();
      for (const line of out.stdout.split('\n')) {
        const m = /^\s*(\S+) \(([^)]*)\) => (\S.*)$/.exec(line);
        if (m && (!archTag || m[2].includes(archTag)) && !map.has(m[1])) map.set(m[1], m[3].trim());
      }
      return map;
    }
    return new Map<string, string>();
  })();
  return loaderCacheEntries;
}

interface HarnessLine {
  ops: number;
  seconds: number;
  fingerprint: Fingerprint;
  threads: number;
  line: Record<string, unknown>;
}

/** The harness's one JSON line, checked field by field; or the op where the allocator ran out of memory. */
function parseHarnessLine(stdout: string, bench: NativeBench): HarnessLine | { outOfMemory: string } {
  const text = stdout.trim();
  const fail = (why: string) => new Error(`native ${bench}: ${why} in output ${JSON.stringify(text)}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw fail('no JSON line');
  }
  const o = v as Record<string, unknown>;
  if (o?.bench === bench && typeof o.outOfMemory === 'string') return { outOfMemory: o.outOfMemory };
  const f = (o?.fingerprint ?? {}) as Record<string, unknown>;
  const numbers = [o?.ops, o?.seconds, o?.threads, f.mallocs, f.frees, f.bytes, f.hash];
  if (o?.bench !== bench || !numbers.every((n) => typeof n === 'number')) throw fail('unexpected fields');
  return {
    ops: o.ops as number,
    seconds: o.seconds as number,
    fingerprint: {
      mallocs: f.mallocs as number,
      frees: f.frees as number,
      bytes: f.bytes as number,
      hash: f.hash as number,
    },
    threads: o.threads as number,
    line: o,
  };
}
