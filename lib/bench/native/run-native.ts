/**
 * The native baselines: the C harnesses in scripts/native, compiled on first
 * use with the machine's C compiler into .cache/native (lib/build: rebuilt when
 * the source, the flags or the compiler change), run with glibc malloc (`system`) or with
 * mimalloc / jemalloc / tcmalloc preloaded from their Debian packages.
 * Whatever cannot run here is returned as `{ skipped: reason }`, never faked.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildC, HOST_CFLAGS, hostCompiler, isSkipped, localIncludes, NATIVE_CACHE, NATIVE_SOURCES, type Skipped } from '../../build/build-c';
import type { Fingerprint } from '../workloads/random-mixed';

// The runners take the skipped result from here, with the runs that produce it.
export { isSkipped, type Skipped } from '../../build/build-c';

const execFileAsync = promisify(execFile);

export const NATIVE_ALLOCATORS = ['system', 'mimalloc', 'jemalloc', 'tcmalloc'] as const;
export type NativeAllocator = (typeof NATIVE_ALLOCATORS)[number];

/**
 * A C harness by name: scripts/native/NAME.c, one binary each (`fixed` is random-mixed with MIN = MAX).
 * The workloads name theirs (lib/bench/workloads/*.workload.ts, `native.harness`).
 */
export type NativeBench = string;

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

export interface NativeAvailability {
  allocator: NativeAllocator;
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  library: string | null;
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
  const command = await nativeCommand(allocator, bench, args, options);
  if (isSkipped(command)) return command;
  const { binary, argv, env, library } = command;
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

/** What runNative runs: the bench's binary (built now unless cached), its arguments and environment. */
export interface NativeCommand {
  binary: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** The preloaded library, null for `system`. */
  library: string | null;
}

/** The command of one native benchmark (as runNative's), or why it cannot run here. */
export async function nativeCommand(
  allocator: NativeAllocator,
  bench: NativeBench,
  args: readonly (string | number)[],
  options: NativeOptions = {},
): Promise<NativeCommand | Skipped> {
  if (!NATIVE_ALLOCATORS.includes(allocator)) throw new Error(`unknown native allocator '${allocator}'`);
  const binary = await buildNative(bench, options);
  if (isSkipped(binary)) return binary;
  const preload = await preloadLibrary(allocator, options);
  if (isSkipped(preload)) return preload;
  const library = preload.path;
  const env = { ...process.env };
  delete env.LD_PRELOAD; // `system` must be glibc even if the caller preloads something
  if (library !== null) env.LD_PRELOAD = library;
  return { binary, argv: args.map(String), env, library };
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
  const source = path.join(NATIVE_SOURCES, `${bench}.c`);
  if (!/^[a-z0-9-]+$/.test(bench) || !existsSync(source)) throw new Error(`unknown native bench '${bench}': no scripts/native/${bench}.c`);
  return buildC({
    compiler: hostCompiler(options.cc),
    sources: [source],
    // The headers it includes are part of what its binary was built from.
    headers: await localIncludes(source),
    flags: HOST_CFLAGS,
    output: path.join(options.cacheDir ?? NATIVE_CACHE, bench),
  });
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
  const found = await findLibrary(soname, hostCompiler(options.cc).command);
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

export interface HarnessLine {
  ops: number;
  seconds: number;
  fingerprint: Fingerprint;
  threads: number;
  line: Record<string, unknown>;
}

/** The harness's one JSON line, checked field by field; or the op where the allocator ran out of memory. */
export function parseHarnessLine(stdout: string, bench: NativeBench): HarnessLine | { outOfMemory: string } {
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
