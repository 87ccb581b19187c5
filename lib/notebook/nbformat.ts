// Jupyter notebooks (nbformat 4.5): types, reading and writing as Jupyter does.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";

/** Text that nbformat stores either whole or as a list of lines. */
export type MultilineString = string | string[];
/** MIME type -> data: text (maybe split in lines), base64 for binary, JSON for *json types. */
export type MimeBundle = Record<string, unknown>;

export interface StreamOutput { output_type: "stream"; name: "stdout" | "stderr"; text: MultilineString }
export interface DisplayDataOutput { output_type: "display_data"; data: MimeBundle; metadata: Record<string, unknown> }
export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeBundle;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput { output_type: "error"; ename: string; evalue: string; traceback: string[] }
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface CellMetadata { tags?: string[]; [key: string]: unknown }
export interface CodeCell {
  cell_type: "code";
  id?: string;
  source: MultilineString;
  metadata: CellMetadata;
  outputs: Output[];
  execution_count: number | null;
}
export interface MarkdownCell {
  cell_type: "markdown";
  id?: string;
  source: MultilineString;
  metadata: CellMetadata;
  attachments?: Record<string, MimeBundle>;
}
export interface RawCell { cell_type: "raw"; id?: string; source: MultilineString; metadata: CellMetadata }
export type Cell = CodeCell | MarkdownCell | RawCell;

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: {
    kernelspec?: { name: string; display_name?: string; language?: string };
    language_info?: Record<string, unknown>;
    [key: string]: unknown;
  };
  cells: Cell[];
}

/** The text of a multiline string. */
export function joinText(text: MultilineString | undefined): string {
  return Array.isArray(text) ? text.join("") : (text ?? "");
}

/** nbformat 4.5 cell ids: 1-64 characters of [a-zA-Z0-9-_]. */
export function newCellId(): string {
  return randomBytes(6).toString("hex");
}

export function readNotebook(file: string): Notebook {
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    throw new Error(`${file}: not an nbformat 4 notebook (nbformat ${String(nb.nbformat)})`);
  }
  return nb;
}

/** Writes nbformat 4.5: every cell gets an id, text is split in lines, one-space indent. */
export function writeNotebook(file: string, nb: Notebook): void {
  const out: Notebook = {
    ...nb,
    nbformat: 4,
    nbformat_minor: Math.max(5, nb.nbformat_minor),
    cells: nb.cells.map((cell) => {
      const base = { ...cell, id: cell.id ?? newCellId(), source: splitLines(cell.source) };
      return cell.cell_type === "code" ? { ...base, outputs: cell.outputs.map(splitOutput) } as CodeCell : base;
    }),
  };
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + "\n");
}

function splitOutput(output: Output): Output {
  if (output.output_type === "stream") return { ...output, text: splitLines(output.text) };
  if (output.output_type === "error") return output;
  const data: MimeBundle = {};
  for (const [mime, value] of Object.entries(output.data)) {
    data[mime] = typeof value === "string" && !isJsonMime(mime) ? splitLines(value) : value;
  }
  return { ...output, data };
}

/** JSON MIME types carry objects, not text (application/json, application/*+json). */
export function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

function splitLines(text: MultilineString): string[] {
  const whole = joinText(text);
  return whole.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
