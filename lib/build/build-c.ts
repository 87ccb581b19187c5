/**
 * The one home for compiling C: the native harnesses and the trace recorder (host binaries) and the
 * WebAssembly allocators all go through buildC. An output is cached under .cache/ and rebuilt when
 * its sources, flags or compiler version change; a compiler or library that is not installed is
 * returned as `{ skipped: reason }` naming the Debian package to install, never faked.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const BUILD_CACHE = path.join(PROJECT_ROOT, '.cache');

/** The C sources of the host binaries: the native harnesses and the trace recorder. */
export const NATIVE_SOURCES = path.join(PROJECT_ROOT, 'scripts', 'native');
export const NATIVE_CACHE = path.join(BUILD_CACHE, 'native');
export const HOST_CFLAGS = ['-std=c11', '-O2', '-pthread'];

/** The machine's C compiler: the command given, else $CC, else cc. */
export function hostCompiler(command?: string): Compiler {
  return { command: command ?? process.env.CC ?? 'cc', debianPackage: 'gcc' };
}

export interface Skipped {
  skipped: string;
}

export function isSkipped<T>(r: T | Skipped): r is Skipped {
  return typeof r === 'object' && r !== null && 'skipped' in r;
}

/** A compiler command and the Debian package that installs it. */
export interface Compiler {
  command: string;
  debianPackage: string;
}

/** A file the build needs besides the compiler (a sysroot's libc, a runtime library). */
export interface Prerequisite {
  file: string;
  debianPackage: string;
}

export interface BuildTarget {
  compiler: Compiler;
  /** The C files compiled, in order. */
  sources: readonly string[];
  /** Files the sources include: a change to them rebuilds. */
  headers?: readonly string[];
  /** Flags before the sources. */
  flags: readonly string[];
  /** Arguments after the sources, e.g. ['-ldl']. */
  libs?: readonly string[];
  requires?: readonly Prerequisite[];
  /** The output's path; beside it, `<output>.sha256` records what it was built from. */
  output: string;
}

/**
 * The headers a C file includes with `#include "..."` from its own folder, and theirs in turn: what
 * its build depends on besides itself (system headers come with the compiler's version).
 */
export async function localIncludes(source: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (file: string) => {
    const text = await fs.readFile(file, 'utf8');
    for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const header = path.join(path.dirname(file), m[1]);
      if (found.includes(header)) continue;
      found.push(header);
      await visit(header);
    }
  };
  await visit(source);
  return found;
}

/** The target's output, compiled now unless the cached one matches its sources, flags and compiler version. */
export async function buildC(target: BuildTarget): Promise<string | Skipped> {
  const { compiler } = target;
  const version = await compilerVersion(compiler.command);
  if (version === null) {
    return { skipped: `no C compiler: '${compiler.command}' is not installed (install the Debian package ${compiler.debianPackage})` };
  }
  const missing = (target.requires ?? []).find((r) => !existsSync(r.file));
  if (missing) return { skipped: `${missing.file} not found (install the Debian package ${missing.debianPackage})` };

  const argv = [...target.flags, ...target.sources, ...(target.libs ?? [])];
  const hash = createHash('sha256').update([compiler.command, version, ...argv].join('\0'));
  for (const file of [...target.sources, ...(target.headers ?? [])]) hash.update('\0').update(await fs.readFile(file));
  const digest = hash.digest('hex');
  const hashFile = `${target.output}.sha256`;
  const cached = await fs.readFile(hashFile, 'utf8').catch(() => '');
  if (cached === digest && existsSync(target.output)) return target.output;

  const key = `${target.output}\0${digest}`;
  let build = builds.get(key);
  if (!build) {
    build = compile(compiler.command, argv, target.output, hashFile, digest);
    builds.set(key, build);
    const settled = () => builds.delete(key);
    build.then(settled, settled);
  }
  return build;
}

/** `command --version`'s first line, once per process; null when the command is not installed. */
function compilerVersion(command: string): Promise<string | null> {
  let version = versions.get(command);
  if (!version) {
    version = execFileAsync(command, ['--version']).then(
      (r) => r.stdout.split('\n')[0].trim(),
      (e: { code?: unknown }) => {
        if (e.code === 'ENOENT') return null;
        throw new Error(`${command} --version failed: ${String(e)}`);
      },
    );
    versions.set(command, version);
  }
  return version;
}

const versions = new Map<string, Promise<string | null>>();

/** Builds in flight in this process, so concurrent callers compile once. */
const builds = new Map<string, Promise<string | Skipped>>();

async function compile(command: string, argv: readonly string[], output: string, hashFile: string, hash: string): Promise<string> {
  await fs.mkdir(path.dirname(output), { recursive: true });
  // Written aside and renamed: other processes may be running the old output. The extension stays
  // last: emcc picks what it writes by the output's extension.
  const ext = path.extname(output);
  const tmp = `${output.slice(0, output.length - ext.length)}.${process.pid}.tmp${ext}`;
  try {
    await execFileAsync(command, [...argv, '-o', tmp]);
  } catch (e) {
    const err = e as { stderr?: string };
    throw new Error(`compiling ${argv.join(' ')} with ${command} failed: ${(err.stderr ?? String(e)).trim()}`);
  }
  await fs.rename(tmp, output);
  await fs.writeFile(`${hashFile}.${process.pid}.tmp`, hash);
  await fs.rename(`${hashFile}.${process.pid}.tmp`, hashFile);
  return output;
}
