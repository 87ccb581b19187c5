/**
 * npm run lab: JupyterLab (or the classic notebook) on notebooks/ with the project's tslab kernel,
 * found through JUPYTER_PATH: nothing outside the project is changed.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { installKernelSpec } from '../lib/notebook/kernelspec';
import { jupyterEnv, PROJECT_ROOT } from '../lib/notebook/paths';

const has = (sub: string) => spawnSync('jupyter', [sub, '--version'], { stdio: 'ignore' }).status === 0;
const app = has('lab') ? 'lab' : has('notebook') ? 'notebook' : null;
if (app === null) {
  process.stderr.write(
    'lab: no Jupyter front end found (`jupyter lab` or `jupyter notebook`).\n' +
      'Install one (Debian: apt-get install jupyter-notebook; or pip install jupyterlab), or open notebooks/\n' +
      `in VS Code and pick the kernel from ${path.join(PROJECT_ROOT, '.jupyter')} (set JUPYTER_PATH to it).\n`,
  );
  process.exitCode = 1;
} else {
  installKernelSpec(PROJECT_ROOT);
  const child = spawn('jupyter', [app, ...process.argv.slice(2)], {
    cwd: path.join(PROJECT_ROOT, 'notebooks'),
    env: jupyterEnv(PROJECT_ROOT),
    stdio: 'inherit',
  });
  child.on('exit', (code) => {
    process.exitCode = code ?? 1;
  });
}
