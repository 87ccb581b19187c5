/**
 * Installing and finding the pinned engines: `npm pack PACKAGE@VERSION` (the ordinary npm client,
 * so npm's registry, proxy and cache settings apply; no install scripts run), unpacked into
 * .cache/engines/NAME-VERSION/ through a temporary folder and renamed once the binary has answered
 * with the pinned version. An engine that cannot be had is an EngineUnavailable with the reason:
 * callers report it as skipped, never run the lab's own node in its place.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { ENGINES, PINNED, RUNNING_NODE, runningNode, type Engine, type PinnedEngine } from './engines';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Where pinned engines are installed (git-ignored). */
export const ENGINE_CACHE = path.join(ROOT, '.cache', 'engines');

export class EngineUnavailable extends Error {}

export interface ResolveOptions {
  cacheDir?: string;
  /** Install from the registry when not in the cache (default true). */
  install?: boolean;
  /** The environment npm runs with (default this process's: npm_config_* settings apply). */
  env?: NodeJS.ProcessEnv;
  /** Told before a download starts. */
  onInstall?: (pin: PinnedEngine) => void;
}

export type Resolution = { engine: Engine } | { skipped: string };

/** An engine by name: the running node, a cached install, or a fresh install; else why not. */
export function resolveEngine(name: string, options: ResolveOptions = {}): Resolution {
  if (name === RUNNING_NODE) return { engine: runningNode() };
  try {
    const pin = pinOf(name);
    const cached = cachedEngine(pin, options.cacheDir);
    if (cached) return { engine: checkRuns(cached) };
    if (options.install === false) throw new EngineUnavailable(`${name} ${pin.version} is not installed (npm run engines -- install ${name})`);
    return { engine: installEngine(pin, options) };
  } catch (e) {
    if (e instanceof EngineUnavailable) return { skipped: e.message };
    throw e;
  }
}

export function pinOf(name: string): PinnedEngine {
  const pin = PINNED[name];
  if (pin === undefined) {
    throw new Error(`unknown engine '${name}' (expected one of ${ENGINES.join(', ')})`);
  }
  return pin;
}

export function engineDir(pin: PinnedEngine, cacheDir = ENGINE_CACHE): string {
  return path.join(cacheDir, `${pin.name}-${pin.version}`);
}

/** The installed engine, when its folder holds the pinned package; null when absent. */
export function cachedEngine(pin: PinnedEngine, cacheDir = ENGINE_CACHE): Engine | null {
  const dir = engineDir(pin, cacheDir);
  const executable = path.join(dir, pin.bin);
  if (!existsSync(executable)) return null;
  return { name: pin.name, runtime: pin.runtime, version: pin.version, executable };
}

/** The engine when its binary runs here and says its pinned version (a CPU it was not built for fails). */
function checkRuns(engine: Engine): Engine {
  const reported = binaryVersion(engine.executable, engine.name);
  if (reported !== engine.version) {
    throw new EngineUnavailable(`${engine.name}: ${engine.executable} says version ${reported}, engines.json pins ${engine.version}`);
  }
  return engine;
}

/** Downloads the pinned package with npm and unpacks it into the cache. */
export function installEngine(pin: PinnedEngine, options: ResolveOptions = {}): Engine {
  const cacheDir = options.cacheDir ?? ENGINE_CACHE;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new EngineUnavailable(`${pin.name}: the pinned ${pin.package} is a linux-x64 build; this machine is ${process.platform}-${process.arch}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const download = mkdtempSync(path.join(cacheDir, `.download-${pin.name}-`));
  try {
    options.onInstall?.(pin);
    const spec = `${pin.package}@${pin.version}`;
    const packed = spawnSync('npm', ['pack', spec, '--pack-destination', download, '--json', '--silent'], {
      cwd: download,
      env: options.env ?? process.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (packed.error || packed.status !== 0) {
      const why = packed.error?.message ?? lastLines(packed.stderr) ?? `exit ${packed.status}`;
      throw new EngineUnavailable(`${pin.name}: npm pack ${spec} failed: ${why}`);
    }
    const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
    return unpackEngine(pin, path.join(download, path.basename(filename)), cacheDir);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
}

/**
 * Unpacks a package tarball as the pinned engine: its package.json must name the pinned package
 * and version, and its binary must run and say that version. Lands whole or not at all.
 */
export function unpackEngine(pin: PinnedEngine, tarball: string, cacheDir = ENGINE_CACHE): Engine {
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(path.join(cacheDir, `.unpack-${pin.name}-`));
  try {
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', staging, '--strip-components=1'], { encoding: 'utf8' });
    if (tar.error || tar.status !== 0) {
      throw new EngineUnavailable(`${pin.name}: cannot unpack ${path.basename(tarball)}: ${tar.error?.message ?? lastLines(tar.stderr)}`);
    }
    const manifest = readManifest(path.join(staging, 'package.json'));
    if (manifest.name !== pin.package || manifest.version !== pin.version) {
      throw new EngineUnavailable(
        `${pin.name}: the package is ${manifest.name}@${manifest.version}, engines.json pins ${pin.package}@${pin.version}`,
      );
    }
    checkRuns({ name: pin.name, runtime: pin.runtime, version: pin.version, executable: path.join(staging, pin.bin) });
    const dir = engineDir(pin, cacheDir);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    return { name: pin.name, runtime: pin.runtime, version: pin.version, executable: path.join(dir, pin.bin) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** What `BINARY --version` prints (node's leading v dropped); EngineUnavailable when it does not run. */
export function binaryVersion(executable: string, name: string): string {
  const r = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    throw new EngineUnavailable(`${name}: ${executable} does not run here: ${r.error?.message ?? lastLines(r.stderr) ?? `exit ${r.status}`}`);
  }
  return r.stdout.trim().replace(/^v/, '');
}

function readManifest(file: string): { name?: string; version?: string } {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  } catch {
    throw new EngineUnavailable(`the package has no readable package.json`);
  }
}

function lastLines(text: string | null | undefined): string | null {
  const lines = (text ?? '').trim().split('\n').filter(Boolean);
  return lines.length ? lines.slice(-2).join(' ') : null;
}
