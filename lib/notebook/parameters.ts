// Papermill-style parameters: a cell tagged "parameters" holds the defaults; the
// runner adds a cell tagged "injected-parameters" right after it with new values.
import { Cell, Notebook, newCellId } from "./nbformat";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";
export const INJECTED_HEADER = "// injected parameters";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A copy of the notebook with the parameters injected (any earlier injected cell
 * is replaced). After a parameters cell the values are assigned, so they are
 * type-checked against its declarations (declare them with `let`); without one,
 * the injected cell goes first and declares them with `const`.
 */
export function injectParameters(nb: Notebook, parameters: Record<string, unknown>): Notebook {
  const cells = nb.cells.filter((cell) => !hasTag(cell, INJECTED_TAG));
  const at = cells.findIndex((cell) => cell.cell_type === "code" && hasTag(cell, PARAMETERS_TAG));
  const declare = at < 0 ? "const " : "";
  const lines = Object.entries(parameters).map(([name, value]) => {
    if (!IDENTIFIER.test(name)) throw new Error(`parameter name "${name}" is not a TypeScript identifier`);
    const literal = JSON.stringify(value);
    if (literal === undefined) throw new Error(`parameter "${name}" has no JSON value`);
    return `${declare}${name} = ${literal};`;
  });
  const injected: Cell = {
    cell_type: "code",
    id: newCellId(),
    metadata: { tags: [INJECTED_TAG] },
    source: [INJECTED_HEADER, ...lines].join("\n"),
    outputs: [],
    execution_count: null,
  };
  cells.splice(at + 1, 0, injected);
  return { ...nb, cells };
}

export function hasTag(cell: Cell, tag: string): boolean {
  return cell.metadata.tags?.includes(tag) ?? false;
}
