/**
 * Records a program's allocation trace: builds the LD_PRELOAD shim (scripts/native/trace-recorder.c),
 * runs the command with it, and writes what the shim recorded as a trace file with header comments
 * (command, date, program and version, the programs it exec'd into, recorder). The command's process
 * is recorded across exec, into one trace (so a wrapper script that execs the program is followed).
 * Processes it starts (fork, spawn, system) are not recorded by default; with `children`, each is
 * recorded to a trace of its own beside the output, FILE.PID.
 */
import { execFile, spawn } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildC, HOST_CFLAGS, hostCompiler, isSkipped, NATIVE_CACHE, NATIVE_SOURCES } from '../build/build-c';
import { readRecordedProcesses, type RecordedProcess } from './recorded-processes';
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
  /** Record each process the command starts to a trace of its own (childTraceFile); default false: not recorded. */
  children?: boolean;
}

/** A process the command started, recorded with `children`. */
export interface ChildRecording {
  pid: number;
  /** Its first image's program. */
  program: string;
  /** Its trace file, or null when it made no allocations or its recording cannot be read (`problem`). */
  out: string | null;
  ops: number;
  problem?: string;
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
  /** The programs the command's process exec'd into after its first, in order, with the op each began at. */
  execs: { exe: string; version: string | null; firstOp: number }[];
  /** With `children`: every other process recorded, by PID. */
  children: ChildRecording[];
}

/** Why a recording made no trace (nothing is written then). */
export class RecordError extends Error {}

/** The recorder shim's path, compiled now unless the cached one is current. */
export async function buildRecorder(options: Pick<RecordOptions, 'cc' | 'cacheDir'> = {}): Promise<string> {
  const built = await buildC({
    compiler: hostCompiler(options.cc),
    sources: [path.join(NATIVE_SOURCES, 'trace-recorder.c'), path.join(NATIVE_SOURCES, 'trace-recorder-exec.c')],
    headers: [path.join(NATIVE_SOURCES, 'trace-format.h'), path.join(NATIVE_SOURCES, 'trace-recorder.h')],
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
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, LD_PRELOAD: shim, HAKMEM_TRACE_DIR: scratch };
    delete env.HAKMEM_TRACE_CHILDREN;
    if (options.children) env.HAKMEM_TRACE_CHILDREN = '1';
    const date = new Date().toISOString();
    const { pid, exitCode, signal } = await run(options, env);

    const { processes, unreadable } = await readRecordedProcesses(scratch);
    const broken = unreadable.find((p) => p.pid === pid);
    if (broken) {
      throw new RecordError(`the recording is inconsistent (a recorder bug, or a program that closed its file): ${broken.error}`);
    }
    const own = processes.find((p) => p.pid === pid);
    if (!own) {
      throw new RecordError(
        `no allocations recorded: the recorder was not loaded into ${program} ` +
          '(LD_PRELOAD does not apply to a statically linked or setuid program)',
      );
    }
    // Without `children` no other process loads the recorder; were one to, it is not mixed in.
    const children = options.children ? processes.filter((p) => p.pid !== pid) : [];
    if (own.trace.length === 0 && !children.some((c) => c.trace.length > 0)) {
      throw new RecordError(
        `no allocations recorded: ${program} made no malloc-family calls through the dynamic linker ` +
          '(it may allocate by other means, e.g. its own allocator over mmap' +
          (options.children ? ')' : ', or leave the work to a child process: record children with --children)'),
      );
    }
    const versions = new PackageVersions();
    const version = await versions.of(program);
    const execs = await Promise.all(
      own.images.slice(1).map(async (image) => ({ exe: image.exe, version: await versions.of(image.exe), firstOp: image.firstOp })),
    );
    const command = `command: ${[
      ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)}`),
      ...[options.command, ...options.args].map(shellQuote),
    ].join(' ')}`;
    const trace: Trace = {
      ...own.trace,
      comments: [
        command,
        `date: ${date}`,
        `program: ${program}${version ? ` ${version}` : ''}`,
        ...(await interpreterComment(program, own.images[0].exe, versions)),
        ...execs.map((e) => `exec at op ${e.firstOp}: ${e.exe}${e.version ? ` ${e.version}` : ''}`),
        `recorder: ${RECORDER_COMMENT}`,
      ],
    };
    await writeTrace(trace, options.out);
    const recorded = await Promise.all(children.map((child) => writeChild(child, options.out, command, date, versions)));
    const problems = (options.children ? unreadable : []).map((p) => ({ pid: p.pid, program: '', out: null, ops: 0, problem: p.error }));
    return { trace, exitCode, signal, program, version, execs, children: [...recorded, ...problems].sort((a, b) => a.pid - b.pid) };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** A script's first image runs its interpreter (the #! line): said in an `interpreter:` comment. */
async function interpreterComment(program: string, exe: string, versions: PackageVersions): Promise<string[]> {
  if (!exe || exe === program) return [];
  const version = await versions.of(exe);
  return [`interpreter: ${exe}${version ? ` ${version}` : ''}`];
}

/**
 * Where a child process's trace goes: OUT with `.PID` before its trace extension (`.trace`,
 * `.hktrace`, then `.gz`), so it has the output's form: run.trace.gz -> run.1234.trace.gz.
 */
export function childTraceFile(out: string, pid: number): string {
  const extension = /(\.hktrace|\.trace)?(\.gz)?$/.exec(out)!;
  return `${out.slice(0, extension.index)}.${pid}${extension[0]}`;
}

async function writeChild(
  child: RecordedProcess,
  out: string,
  command: string,
  date: string,
  versions: PackageVersions,
): Promise<ChildRecording> {
  const [first, ...later] = child.images;
  const result: ChildRecording = { pid: child.pid, program: first.exe, out: null, ops: child.trace.length };
  if (child.trace.length === 0) return result;
  const describe = async (exe: string) => {
    const version = await versions.of(exe);
    return `${exe}${version ? ` ${version}` : ''}`;
  };
  const comments = [
    command,
    `process: ${child.pid}, started by the command (a child, or a child's child)`,
    `date: ${date}`,
    `program: ${await describe(first.exe)}`,
    `argv: ${first.argv}`,
  ];
  for (const image of later) comments.push(`exec at op ${image.firstOp}: ${await describe(image.exe)}`);
  comments.push(`recorder: ${RECORDER_COMMENT}`);
  result.out = childTraceFile(out, child.pid);
  await writeTrace({ ...child.trace, comments }, result.out);
  return result;
}

/** Runs the command as given (some programs look at the name they are called by). */
function run(
  options: RecordOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ pid: number; exitCode: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, options.args, { cwd: options.cwd, env, stdio: options.stdio ?? 'inherit' });
    child.on('error', (e) => reject(new RecordError(`cannot run ${options.command}: ${e.message}`)));
    child.on('close', (exitCode, signal) => resolve({ pid: child.pid!, exitCode, signal }));
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

/** packageVersion, asked once per program. */
class PackageVersions {
  private readonly known = new Map<string, Promise<string | null>>();

  of(program: string): Promise<string | null> {
    if (!program) return Promise.resolve(null);
    if (!this.known.has(program)) this.known.set(program, packageVersion(program));
    return this.known.get(program)!;
  }
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

/**
 * `arg` as a shell word on one line (a trace's comment is a line): as it is, in '...', or, with a
 * line break or another control character in it (python3 -c with a script), in $'...' with escapes.
 */
function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=,+@%-]+$/.test(arg)) return arg;
  if (!/[\x00-\x1f\x7f]/.test(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`;
  const escapes: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', "'": "\\'", '\\': '\\\\' };
  return `$'${arg.replace(/[\x00-\x1f\x7f'\\]/g, (c) => escapes[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}
