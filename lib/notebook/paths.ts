// Where the notebook machinery finds the project and its Jupyter data folder.
import * as path from "node:path";

/** The project root (this file lives in lib/notebook/). */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** The project-local Jupyter data folder: put it on JUPYTER_PATH to see the kernel. */
export function jupyterDataDir(root: string = PROJECT_ROOT): string {
  return path.join(root, ".jupyter");
}

/** The environment for Jupyter tools: the project's data folder first on JUPYTER_PATH. */
export function jupyterEnv(root: string = PROJECT_ROOT, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const rest = base.JUPYTER_PATH ? [base.JUPYTER_PATH] : [];
  return { ...base, JUPYTER_PATH: [jupyterDataDir(root), ...rest].join(path.delimiter) };
}
