// Result tables through arquero: HTML for notebooks, reports and scripts.
import * as aq from "arquero";
import { tslab } from "./display";

export type TableInput = readonly object[] | aq.ColumnTable;
type HTMLFormatOptions = NonNullable<Parameters<aq.ColumnTable["toHTML"]>[0]>;

export interface TableOptions extends HTMLFormatOptions {
  /** A caption above the table. */
  caption?: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The table as an HTML string (default: up to 200 rows, 3 fraction digits, empty cells for null). */
export function tableHtml(data: TableInput, options: TableOptions = {}): string {
  const t = data instanceof aq.ColumnTable ? data : aq.from(data as object[]);
  const { caption, ...format } = options;
  const limit = format.limit ?? 200;
  const html = t.toHTML({ maxdigits: 3, null: () => "", ...format, limit });
  const head = caption ? `<caption>${escapeHtml(caption)}</caption>` : "";
  const note = t.numRows() > limit ? `<p class="table-note">first ${limit} of ${t.numRows()} rows</p>` : "";
  return html.replace(/^<table>/, `<table class="hakmem-table">${head}`) + note;
}

/**
 * In a notebook: shows the table and returns undefined (so tslab prints no
 * copy of the HTML). Elsewhere: returns the HTML string.
 */
export function table(data: TableInput, options: TableOptions = {}): string | undefined {
  const html = tableHtml(data, options);
  const api = tslab();
  if (!api) return html;
  api.display.html(html);
  return undefined;
}
