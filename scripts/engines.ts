/**
 * npm run engines -- list | install [NAME...]: the JS engines benchmarks can run on (engines.json).
 * `install` fetches pinned engines from the npm registry into .cache/engines ahead of time (CI does,
 * so tests can run on them); bench and matrix also install on first use.
 * Exit codes: 0 done, 1 an engine could not be installed, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { ENGINES, PINNED, RUNNING_NODE, runningNode } from '../lib/bench/engines/engines';
import { ENGINE_CACHE, cachedEngine, resolveEngine } from '../lib/bench/engines/install';
import { runMain } from './run-main';

const USAGE = `usage: npm run engines -- list | install [NAME...]

  list             every engine, its pinned package and whether it is installed
  install [NAME]   install pinned engines (default all) from the npm registry into
                   .cache/engines (npm's own settings apply: npm_config_registry, proxies)

engines: ${ENGINES.join(', ')} (${RUNNING_NODE} is the node running the command; the rest are
pinned in engines.json)
`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { help: { type: 'boolean' } }, allowPositionals: true });
  } catch (e) {
    return usage((e as Error).message);
  }
  const [verb, ...names] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (verb === 'list' && names.length === 0) {
    const here = runningNode();
    process.stdout.write(`${RUNNING_NODE.padEnd(8)} node ${here.version} (running: ${here.executable})\n`);
    for (const pin of Object.values(PINNED)) {
      const cached = cachedEngine(pin);
      process.stdout.write(
        `${pin.name.padEnd(8)} ${pin.package}@${pin.version}: ${cached ? `installed (${cached.executable})` : 'not installed'}\n`,
      );
    }
    return 0;
  }
  if (verb !== 'install') return usage(verb === undefined ? 'no command given' : `unknown command '${verb}'`);
  const unknown = names.filter((n) => !(n in PINNED));
  if (unknown.length) return usage(`unknown engine '${unknown[0]}' (installable: ${Object.keys(PINNED).join(', ')})`);
  let failed = 0;
  for (const name of names.length ? names : Object.keys(PINNED)) {
    const r = resolveEngine(name, {
      onInstall: (pin) => process.stderr.write(`engines: installing ${pin.package}@${pin.version} into ${ENGINE_CACHE}\n`),
    });
    if ('skipped' in r) {
      process.stderr.write(`engines: ${r.skipped}\n`);
      failed++;
    } else process.stdout.write(`${name}: ${r.engine.runtime} ${r.engine.version} at ${r.engine.executable}\n`);
  }
  return failed ? 1 : 0;
}

function usage(message: string): number {
  process.stderr.write(`engines: ${message}\n\n${USAGE}`);
  return 2;
}

runMain('engines', main);
