/**
 * Records a program's allocation trace: builds the LD_PRELOAD shim (scripts/native/trace-recorder.c),
 * runs the command with it, and writes what the shim recorded as a trace file with header comments
 * (command, date, program and version, recorder). Only the command's own process is recorded:
 * processes it starts (fork, exec, spawn) run without the shim.
 */
import { execFile, spawn } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildC, HOST_CFLAGS, hostCompiler, isSkipped, NATIVE_CACHE, NATIVE_SOURCES } from '../build/build-c';
import { readTrace } from './read';
import type { Trace } from './trace';
import { writeTrace } from './write';

const execFileAsync = promisify(execFile);

export const RECORDER_COMMENT = 'hakmem-ts trace-recorder';

export interface RecordOptions {
  /** The trace file to write; its name picks the form (write.ts). */
  out: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  /** Variables added to the command's environment (shown in the `command:` comment). */
  env?: Readonly<Record<string, string>>;
  /** The command's stdin/stdout/stderr; default inherited. */
  stdio?: 'inherit' | 'ignore';
  /** The C compiler for the shim; default $CC, else cc. */
  cc?: string;
  /** Where the shim is cached; default <project>/.cache/native. */
  cacheDir?: string;
}

export interface RecordResult {
  trace: Trace;
  /** The command's exit code, null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The program run: the command's absolute path, links resolved. */
  program: string;
  /** "(package version)" of the Debian package that installed it, or null. */
  version: string | null;
}

/** Why a recording made no trace (nothing is written then). */
export class RecordError extends Error {}

/** The recorder shim's path, compiled now unless the cached one is current. */
export async function buildRecorder(options: Pick<RecordOptions, 'cc' | 'cacheDir'> = {}): Promise<string> {
  const built = await buildC({
    compiler: hostCompiler(options.cc),
    sources: [path.join(NATIVE_SOURCES, 'trace-recorder.c')],
    headers: [path.join(NATIVE_SOURCES, 'trace-format.h')],
    flags: [...HOST_CFLAGS, '-shared', '-fPIC'],
    libs: ['-ldl'],
    output: path.join(options.cacheDir ?? NATIVE_CACHE, 'trace-recorder.so'),
  });
  if (isSkipped(built)) throw new RecordError(`cannot build the recorder: ${built.skipped}`);
  return built;
}

export async function recordTrace(options: RecordOptions): Promise<RecordResult> {
  const outDir = path.dirname(path.resolve(options.out));
  if (!(await fs.stat(outDir).catch(() => null))?.isDirectory()) {
    throw new RecordError(`the output folder ${outDir} does not exist`);
  }
  const program = await findProgram(options.command, options.cwd);
  const shim = await buildRecorder(options);

  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'hakmem-record-'));
  try {
    const raw = path.join(scratch, 'raw.hktrace');
    const env = { ...process.env, ...options.env, LD_PRELOAD: shim, HAKMEM_TRACE_OUT: raw };
    const date = new Date().toISOString();
    const { exitCode, signal } = await run(options, env);

    if (!(await fs.stat(raw).catch(() => null))) {
      throw new RecordError(
        `no allocations recorded: the recorder was not loaded into ${program} ` +
          '(LD_PRELOAD does not apply to a statically linked or setuid program)',
      );
    }
    const recorded = await readTrace(raw).catch((e: Error) => {
      throw new RecordError(`the recording is inconsistent (a recorder bug, or a program that closed its file): ${e.message}`);
    });
    if (recorded.length === 0) {
      throw new RecordError(
        `no allocations recorded: ${program} made no malloc-family calls through the dynamic linker ` +
          '(it may allocate by other means, e.g. its own allocator over mmap, or exec another program at once)',
      );
    }
    const version = await packageVersion(program);
    const trace: Trace = {
      ...recorded,
      comments: [
        `command: ${[
          ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`),
          ...[options.command, ...options.args].map(shellQuote),
        ].join(' ')}`,
        `date: ${date}`,
        `program: ${program}${version ? ` ${version}` : ''}`,
        `recorder: ${RECORDER_COMMENT}`,
      ],
    };
    await writeTrace(trace, options.out);
    return { trace, exitCode, signal, program, version };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Runs the command as given (some programs look at the name they are called by). */
function run(options: RecordOptions, env: NodeJS.ProcessEnv): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, { cwd: options.cwd, env, stdio: options.stdio ?? 'inherit' });
    child.on('error', (e) => reject(new RecordError(`cannot run ${options.command}: ${e.message}`)));
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal }));
  });
}

/** The command's absolute path (as the shell would find it on PATH), links resolved; a RecordError if none. */
async function findProgram(command: string, cwd = process.cwd()): Promise<string> {
  const candidates = command.includes('/')
    ? [path.resolve(cwd, command)]
    : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    const stat = await fs.stat(candidate).catch(() => null);
    if (!stat?.isFile()) continue;
    if (await fs.access(candidate, constants.X_OK).then(() => true, () => false)) return fs.realpath(candidate);
    if (command.includes('/')) throw new RecordError(`command is not executable: ${command}`);
  }
  throw new RecordError(`command not found: ${command}`);
}

/** "(<package> <version>)" of the Debian package that installed the program, or null. */
async function packageVersion(program: string): Promise<string | null> {
  // With merged /usr, dpkg may know /usr/bin/x by its old name /bin/x.
  const names = program.startsWith('/usr/') ? [program, program.slice(4)] : [program];
  for (const name of names) {
    try {
      const owner = (await execFileAsync('dpkg', ['-S', name])).stdout.split('\n')[0];
      const pkg = owner.slice(0, owner.indexOf(': ')).split(',')[0].trim();
      const version = (await execFileAsync('dpkg-query', ['-W', '-f=${Version}', pkg])).stdout.trim();
      if (version) return `(${pkg} ${version})`;
    } catch {
      // not this name, not from a Debian package, or no dpkg
    }
  }
  return null;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
