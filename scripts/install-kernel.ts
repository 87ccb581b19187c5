// npm run kernel: installs the tslab TypeScript kernel into the project-local
// Jupyter data folder (.jupyter/), changing nothing outside the project.
import { installKernelSpec, KERNEL_NAME } from "../lib/notebook/kernelspec";
import { jupyterDataDir, PROJECT_ROOT } from "../lib/notebook/paths";

const file = installKernelSpec(PROJECT_ROOT);
const dataDir = jupyterDataDir(PROJECT_ROOT);
console.log(`Installed the "${KERNEL_NAME}" kernel (tslab from node_modules) at ${file}`);
console.log(`Its cells run with the project root as working directory: import from "./lib/...".`);
console.log("");
console.log("Use it:");
console.log("  npm run lab                      Jupyter Lab with this kernel");
console.log("  npm run notebooks                execute notebooks/ headlessly into reports/");
console.log(`  JUPYTER_PATH=${dataDir} jupyter <command>   any Jupyter tool`);
