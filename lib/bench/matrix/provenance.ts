/**
 * Where a result came from: the code (git commit, uncommitted changes), the
 * machine, the runtime, the allocator configuration and the command. Written
 * next to every result set so results from different builds are never mixed
 * silently (DESIGN.md, "Benchmarks and baselines").
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configHash, resolveConfig, type BuildMode } from '../../alloc/config';
import type { PresetName } from '../../alloc/presets';
import type { HeapAlignment } from '../../alloc/size-classes';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The files whose changes change a measurement (tests, notebooks and data do not). */
const MEASURED_PATHS = ['lib', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** The state of the code a result was measured with. */
export interface Checkout {
  /** null outside a git checkout (or one without commits). */
  commit: string | null;
  /** Uncommitted changes (tracked or new files) under MEASURED_PATHS. */
  dirty: boolean;
  /** sha256 of those changes, telling two dirty trees apart; null when clean. */
  dirtyDigest: string | null;
}

export interface Provenance extends Checkout {
  date: string;
  node: string;
  v8: string;
  cpuModel: string;
  cpuCount: number;
  os: string;
  /** 1, 5 and 15 minute load averages when the measurement started. */
  loadAverage: number[];
  /** hakmem build mode, null when no hakmem result is in the set. */
  build: BuildMode | null;
  /** Each hakmem preset measured (`current`, `current:align16`) -> the hash of its resolved configuration. */
  presets: Record<string, string>;
  /** Each JS engine the runs were asked to use -> its runtime and version, or why it was skipped. */
  engines: Record<string, string>;
  /** HAKMEM_* variables set in the environment: they change the configuration. */
  env: Record<string, string>;
  /** The command, with paths relative to the project. */
  command: string[];
}

export interface ProvenanceOptions {
  /** The hakmem configurations measured: a label (`current`, `current:align16`), its preset and its block alignment. */
  presets?: readonly { label: string; preset: PresetName; align: HeapAlignment }[];
  build?: BuildMode | null;
  engines?: Record<string, string>;
  argv?: readonly string[];
}

export function collectProvenance({ presets = [], build = null, engines = {}, argv = process.argv }: ProvenanceOptions = {}): Provenance {
  const cpus = os.cpus();
  const env = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('HAKMEM_') && e[1] !== undefined),
  );
  return {
    ...currentCheckout(),
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    build,
    presets: Object.fromEntries(
      presets.map(({ label, preset, align }) => [label, configHash(resolveConfig({ preset, align, build: build ?? undefined }))]),
    ),
    engines,
    env,
    command: commandLine(argv),
  };
}

/** One line naming the machine, for telling result sets from different machines apart. */
export function machineOf(p: Pick<Provenance, 'cpuModel' | 'cpuCount' | 'os' | 'node'>): string {
  return `${p.cpuModel} x${p.cpuCount}, ${p.os}, node ${p.node}`;
}

export function currentCheckout(): Checkout {
  const commit = git(['rev-parse', 'HEAD']);
  if (commit === null) return { commit: null, dirty: false, dirtyDigest: null };
  const diff = git(['diff', 'HEAD', '--', ...MEASURED_PATHS]) ?? '';
  const untracked = (git(['ls-files', '--others', '--exclude-standard', '--', ...MEASURED_PATHS]) ?? '')
    .split('\n')
    .filter(Boolean)
    .sort();
  if (diff === '' && untracked.length === 0) return { commit, dirty: false, dirtyDigest: null };
  const h = createHash('sha256').update(diff);
  for (const file of untracked) h.update(`\0${file}\0`).update(readFileSync(path.join(ROOT, file)));
  return { commit, dirty: true, dirtyDigest: h.digest('hex').slice(0, 16) };
}

/**
 * Why results measured at `recorded` are not results of `current`, or null
 * when they are the same code.
 */
export function checkoutMismatch(recorded: Checkout, current: Checkout): string | null {
  const describe = (c: Checkout) =>
    `${c.commit?.slice(0, 10) ?? 'no commit'}${c.dirty ? ` with uncommitted changes ${c.dirtyDigest}` : ''}`;
  const same =
    recorded.commit === current.commit && recorded.dirty === current.dirty && recorded.dirtyDigest === current.dirtyDigest;
  return same ? null : `measured at ${describe(recorded)}; the checkout is ${describe(current)}`;
}

/** Trimmed git output, or null when git or the repository is missing. */
function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** node and script paths made project-relative, so a record names no machine's folders. */
function commandLine(argv: readonly string[]): string[] {
  const [, script, ...args] = argv;
  return ['node', ...(script ? [path.relative(ROOT, script) || script] : []), ...args];
}
