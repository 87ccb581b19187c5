// The project's Jupyter kernelspec: the tslab kernel from this project's
// node_modules, started with the project root as its working directory.
import * as fs from "node:fs";
import * as path from "node:path";
import { jupyterDataDir, PROJECT_ROOT } from "./paths";

/** The kernelspec name notebooks put in metadata.kernelspec.name. */
export const KERNEL_NAME = "hakmem-ts";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
}

// tslab type-checks local .ts imports only under its working directory
// (TypeScript's rootDir = cwd), and Jupyter starts kernels in the notebook's
// folder. So the kernel changes to the project root before tslab starts:
// every cell then resolves `./lib/...` and `data/...` from the root, in Jupyter
// Lab, in nbclient and in our runner alike.
// tslab serves a local import from the modules it compiled only when the import
// names no extension: `./larson.workload` (the workload files, NAME.workload.ts)
// reads as a file with the extension `.workload`, falls through to Node's require
// and is not found. ts-node (transpile-only) lets that require load the .ts file.
const LAUNCHER = [
  'const path = require("path");',
  "const [root, tslabMain, tsNodeRegister, connectionFile] = process.argv.slice(1);",
  "const configPath = path.resolve(connectionFile);",
  "process.chdir(root);",
  "require(tsNodeRegister);",
  "require(tslabMain).startKernel({ configPath, enableFindLocal: false });",
].join(" ");

/** The kernelspec for the project at `root`, run by the current Node binary. */
export function kernelSpecFor(root: string = PROJECT_ROOT): KernelSpec {
  const tslabMain = require.resolve("tslab/dist/main.js", { paths: [root] });
  const tsNodeRegister = require.resolve("ts-node/register/transpile-only", { paths: [root] });
  return {
    argv: [process.execPath, "-e", LAUNCHER, root, tslabMain, tsNodeRegister, "{connection_file}"],
    display_name: "TypeScript (hakmem-ts)",
    language: "typescript",
  };
}

/** The kernel.json path of a kernel inside a Jupyter data folder. */
export function kernelSpecPath(dataDir: string, name: string = KERNEL_NAME): string {
  return path.join(dataDir, "kernels", name, "kernel.json");
}

/** Writes (or refreshes) the project-local kernelspec; returns the kernel.json path. */
export function installKernelSpec(root: string = PROJECT_ROOT): string {
  const file = kernelSpecPath(jupyterDataDir(root));
  const text = JSON.stringify(kernelSpecFor(root), null, 2) + "\n";
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) fs.writeFileSync(file, text);
  return file;
}

/** Finds a kernelspec by name in the project-local folder, then on JUPYTER_PATH. */
export function findKernelSpec(name: string, root: string = PROJECT_ROOT): KernelSpec {
  const dirs = [jupyterDataDir(root), ...(process.env.JUPYTER_PATH ?? "").split(path.delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const file = kernelSpecPath(dir, name);
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as KernelSpec;
  }
  throw new Error(`no Jupyter kernel named "${name}" in ${dirs.join(", ")}: run \`npm run kernel\` to install the project's kernel`);
}
