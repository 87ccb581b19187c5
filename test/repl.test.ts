import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.join(__dirname, '..');

describe('npm run repl', () => {
  it('prints its help, has the lab in scope, evaluates TypeScript and top-level await', () => {
    const input = [
      'const h = createHeap({ preset: "phase7-ss-lookup" }); const p: number = h.malloc(100); h.free(p);',
      'JSON.stringify(h.stats().routes)',
      'const sum = await Promise.resolve(PRESET_NAMES.includes("current") ? 6 * 7 : 0); sum',
      '.exit',
      '',
    ].join('\n');
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/repl.ts'], {
      cwd: ROOT, input, encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /hakmem-ts REPL: TypeScript, with lib\/lab.ts in scope/);
    assert.match(r.stdout, /"ss_hit":1/);
    assert.match(r.stdout, /hakmem> 42/);
  });
});
