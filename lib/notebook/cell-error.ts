// The error a failed notebook cell raises, with the kernel's error name and message.
// tslab reports failures only as stderr text (no iopub "error" message), so the
// name and message are read back from what Node printed.

export interface KernelError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export class CellExecutionError extends Error {
  constructor(
    /** The notebook's file name (or label). */
    readonly notebook: string,
    /** 1-based position of the cell in the source notebook; null for the injected parameters cell. */
    readonly cellNumber: number | null,
    readonly error: KernelError,
  ) {
    const where = cellNumber === null ? "the injected parameters cell" : `cell ${cellNumber}`;
    super(`${notebook}: ${where} failed: ${error.ename}: ${error.evalue}`);
    this.name = "CellExecutionError";
  }
}

const STACK_FRAME = /^\s+at /;
const ERROR_HEADER = /^([A-Za-z_$][\w$]*)(?: \[[^\]]*\])?: ?(.*)$/;
const DIAGNOSTIC = /^\d+:\d+ - /;

/**
 * Reads the error name and message out of a failed tslab cell's stderr. The
 * traceback stays empty: the whole trace is already in the cell's stderr output.
 */
export function errorFromStderr(stderr: string): KernelError {
  const lines = stderr.replace(/\n+$/, "").split("\n");
  const traceback: string[] = [];
  const diagnostics = lines.filter((line) => DIAGNOSTIC.test(line));
  if (diagnostics.length > 0) return { ename: "CompileError", evalue: diagnostics.join("\n"), traceback };
  const firstFrame = lines.findIndex((line) => STACK_FRAME.test(line));
  for (let i = firstFrame - 1; i >= 0; i--) {
    const header = ERROR_HEADER.exec(lines[i]);
    if (header) return { ename: header[1], evalue: [header[2], ...lines.slice(i + 1, firstFrame)].join("\n"), traceback };
  }
  const last = lines.filter((line) => line.trim() !== "").pop();
  return { ename: "Error", evalue: last ?? "the cell failed without a message", traceback };
}
