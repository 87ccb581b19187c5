/**
 * Standalone HTML reports from executed notebooks: markdown rendered with marked, code cells, their
 * outputs (text, HTML tables, SVG figures inline, PNG as data URLs, errors) and a provenance footer.
 * A figure that carries its Vega-Lite spec becomes a live chart (html-page.ts).
 * No external resources: a report opens from disk with no server.
 */
import { marked } from "marked";
import { chartHtml, escapeHtml, footer, page, VEGA_LITE_MIME, type ProvenanceFooter } from "../report/html-page";
import { joinText, type Notebook, type Output } from "./nbformat";

export type { ProvenanceFooter } from "../report/html-page";

// Terminal colour codes and carriage-return redraws (progress bars) are noise in a page.
const terminalText = (s: string) =>
  s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "").split("\n").map((line) => line.slice(line.lastIndexOf("\r") + 1)).join("\n");

/** One output as HTML: the richest type a static page can show. */
function outputHtml(output: Output): string {
  switch (output.output_type) {
    case "stream":
      return `<pre class="stream ${output.name}">${escapeHtml(terminalText(joinText(output.text)))}</pre>`;
    case "error":
      return `<pre class="error">${escapeHtml(terminalText([`${output.ename}: ${output.evalue}`, ...output.traceback].join("\n")))}</pre>`;
    default: {
      const data = output.data;
      const text = (mime: string) => joinText(data[mime] as string | string[]);
      if (data["image/svg+xml"] !== undefined) {
        const spec = data[VEGA_LITE_MIME];
        return spec === undefined ? `<div class="output figure">${text("image/svg+xml")}</div>` : chartHtml(spec, text("image/svg+xml"));
      }
      if (data["text/html"] !== undefined) return `<div class="output">${text("text/html")}</div>`;
      const image = ["image/png", "image/jpeg", "image/gif"].find((mime) => data[mime] !== undefined);
      if (image) return `<div class="output"><img alt="figure" src="data:${image};base64,${text(image).replace(/\s/g, "")}"></div>`;
      if (data["text/markdown"] !== undefined) return `<div class="output">${marked.parse(text("text/markdown"), { async: false })}</div>`;
      if (data["text/plain"] !== undefined) return `<pre class="stream">${escapeHtml(terminalText(text("text/plain")))}</pre>`;
      return "";
    }
  }
}

/** The whole report page for an executed notebook. */
export function notebookToHtml(nb: Notebook, title: string, provenance: ProvenanceFooter = {}): string {
  const body = nb.cells
    .map((cell) => {
      const source = joinText(cell.source);
      if (cell.cell_type === "markdown") return marked.parse(source, { async: false });
      if (cell.cell_type !== "code") return "";
      const code = source.trim() ? `<pre class="code"><code>${escapeHtml(source)}</code></pre>` : "";
      return code + cell.outputs.map(outputHtml).join("\n");
    })
    .join("\n");
  return page(title, `${body}\n${footer(provenance)}`);
}

/** The index page linking every report, with its key figure and the data it read when known. */
export function reportIndexHtml(
  reports: { title: string; file: string; summary?: string; keyFigure?: string; data?: string }[],
  provenance: ProvenanceFooter = {},
  /** The key figures' trends over commits (history-page.ts), shown above the list. */
  trends = "",
): string {
  const items = reports
    .map((r) => {
      const link = `<a href="${escapeHtml(r.file)}">${escapeHtml(r.title)}</a>${r.summary ? ` — ${escapeHtml(r.summary)}` : ""}`;
      const details = [
        r.keyFigure ? `<div class="key-figure">${escapeHtml(r.keyFigure)}</div>` : "",
        r.data ? `<div class="data-provenance">data: ${escapeHtml(r.data)}</div>` : "",
      ].join("");
      return `<li>${link}${details}</li>`;
    })
    .join("\n");
  return page("hakmem-ts reports", `<h1>hakmem-ts reports</h1>\n${trends}\n<ul>\n${items}\n</ul>\n${footer(provenance)}`);
}

