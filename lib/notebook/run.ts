// Executes a notebook headlessly on its Jupyter kernel, cell by cell, stopping
// at the first failing cell, and always shutting the kernel down.
import * as fs from "node:fs";
import * as path from "node:path";
import { CellExecutionError, errorFromStderr, KernelError } from "./cell-error";
import { Kernel, KernelTimeoutError } from "./kernel";
import { findKernelSpec, installKernelSpec, KERNEL_NAME } from "./kernelspec";
import { CodeCell, joinText, Notebook, readNotebook, writeNotebook } from "./nbformat";
import { OutputCollector } from "./outputs";
import { hasTag, INJECTED_TAG, injectParameters } from "./parameters";
import { PROJECT_ROOT } from "./paths";

export interface RunOptions {
  /** Values injected after the cell tagged "parameters" (papermill-style). */
  parameters?: Record<string, unknown>;
  /** Per-cell limit (default 10 minutes). */
  cellTimeoutMs?: number;
  /** Limit for the kernel to start and answer (default 60 s). */
  startupTimeoutMs?: number;
  /** The project whose .jupyter/ holds the kernel (default: this one). */
  root?: string;
  /** The kernel's working directory, as Jupyter sets it: the notebook's folder (default: root). */
  cwd?: string;
  /** Names the notebook in errors (default "notebook"). */
  label?: string;
  /** Called before each code cell runs and once at the end (done === total). */
  onProgress?: (done: number, total: number) => void;
}

export interface RunResult {
  /** The executed notebook, outputs filled up to the failing cell. */
  notebook: Notebook;
  /** The first failure, or null when every cell ran. */
  error: CellExecutionError | null;
}

/** Runs every code cell of `source` on its kernel (metadata.kernelspec.name, default the project's). */
export async function executeNotebook(source: Notebook, options: RunOptions = {}): Promise<RunResult> {
  const root = options.root ?? PROJECT_ROOT;
  const label = options.label ?? "notebook";
  const nb = structuredClone(options.parameters ? injectParameters(source, options.parameters) : source);
  const kernelName = nb.metadata.kernelspec?.name ?? KERNEL_NAME;
  if (kernelName === KERNEL_NAME) installKernelSpec(root); // keeps the generated kernelspec current
  const spec = findKernelSpec(kernelName, root);
  nb.metadata.kernelspec ??= { name: kernelName, display_name: spec.display_name, language: spec.language };

  // Source cell numbers (1-based) as the author sees them; the injected cell has none.
  let sourceNumber = 0;
  const numbered = nb.cells.map((cell) => ({ cell, number: hasTag(cell, INJECTED_TAG) ? null : ++sourceNumber }));
  const code = numbered.filter((c): c is { cell: CodeCell; number: number | null } => c.cell.cell_type === "code");
  for (const { cell } of code) {
    cell.outputs = [];
    cell.execution_count = null;
  }
  const runnable = code.filter(({ cell }) => joinText(cell.source).trim() !== "");

  const kernel = await Kernel.start({
    name: kernelName, spec, cwd: options.cwd ?? root, startupTimeoutMs: options.startupTimeoutMs,
  });
  try {
    if (kernel.info.language_info) nb.metadata.language_info = kernel.info.language_info as Record<string, unknown>;
    const collector = new OutputCollector();
    for (const [done, { cell, number }] of runnable.entries()) {
      options.onProgress?.(done, runnable.length);
      const failure = await runCell(kernel, cell, collector, options.cellTimeoutMs ?? 600_000);
      if (failure) return { notebook: nb, error: new CellExecutionError(label, number, failure) };
    }
    options.onProgress?.(runnable.length, runnable.length);
    return { notebook: nb, error: null };
  } finally {
    await kernel.shutdown();
  }
}

/** Runs one cell into its outputs; returns the kernel's error if it failed. */
async function runCell(kernel: Kernel, cell: CodeCell, collector: OutputCollector, timeoutMs: number): Promise<KernelError | null> {
  collector.begin(cell.outputs);
  let stderr = "";
  let failure: KernelError | null = null;
  try {
    const reply = await kernel.execute(joinText(cell.source), timeoutMs, (msg) => {
      collector.handle(msg);
      if (msg.header.msg_type === "stream" && msg.content.name === "stderr") stderr += String(msg.content.text);
    });
    cell.execution_count = reply.execution_count ?? null;
    if (reply.status === "error") {
      failure = reply.ename
        ? { ename: reply.ename, evalue: reply.evalue ?? "", traceback: reply.traceback ?? [] }
        : errorFromStderr(stderr);
    } else if (reply.status === "abort") {
      failure = { ename: "Aborted", evalue: "the kernel aborted the cell", traceback: [] };
    }
  } catch (err) {
    const ename = err instanceof KernelTimeoutError ? "Timeout" : "KernelError";
    failure = { ename, evalue: (err as Error).message, traceback: [] };
  }
  if (failure && !cell.outputs.some((o) => o.output_type === "error")) {
    cell.outputs.push({ output_type: "error", ...failure });
  }
  return failure;
}

/**
 * Executes a notebook file into `output` (written also when a cell fails, so
 * the failure can be inspected); throws the CellExecutionError after writing.
 */
export async function runNotebookFile(input: string, output: string, options: RunOptions = {}): Promise<Notebook> {
  const result = await executeNotebook(readNotebook(input), {
    label: path.basename(input), cwd: path.dirname(path.resolve(input)), ...options,
  });
  fs.mkdirSync(path.dirname(output), { recursive: true });
  writeNotebook(output, result.notebook);
  if (result.error) throw result.error;
  return result.notebook;
}
