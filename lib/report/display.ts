// Rich output in a tslab notebook: knows whether code runs inside the tslab
// kernel (without loading tslab, and its TypeScript compiler, when not), and
// sends multi-MIME bundles through tslab's lower-level display hook.
import type { Display } from "tslab";

type TslabApi = { display: Display; newDisplay: () => Display };
type WriteDisplayData = (
  msg: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

// tslab's executor sets this global before running any cell; its `require`
// hands cells the kernel's own tslab module.
function tslabGlobal(): { require: (id: string) => unknown } | undefined {
  return (globalThis as { __tslab__?: { require: (id: string) => unknown } }).__tslab__;
}

/** True inside the tslab kernel, where display output reaches the notebook. */
export function inNotebook(): boolean {
  return tslabGlobal() !== undefined;
}

/** tslab's display API (one MIME type per call); null outside a notebook. */
export function tslab(): TslabApi | null {
  return (tslabGlobal()?.require("tslab") as TslabApi | undefined) ?? null;
}

// tslab's public display functions end in this writer of the running cell; it
// takes a whole MIME bundle, where `display.*` sends one type per call.
function displayHook(): WriteDisplayData | null {
  try {
    const jupyter = require.cache[require.resolve("tslab/dist/jupyter.js")]?.exports as
      { lastWriteDisplayData?: WriteDisplayData | null } | undefined;
    return jupyter?.lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

/**
 * Shows one output with several MIME types (the front end picks the richest it
 * renders). Where tslab's hook is not reachable, `fallback` shows one type.
 * Returns false outside a notebook.
 */
export function showBundle(data: Record<string, unknown>, fallback: (display: Display) => void): boolean {
  const api = tslab();
  if (!api) return false;
  const hook = displayHook();
  if (hook) hook({ data, metadata: {}, transient: {} }, false);
  else fallback(api.display);
  return true;
}
