/**
 * Standalone HTML reports from executed notebooks: markdown rendered with marked, code cells, their
 * outputs (text, HTML tables, SVG figures inline, PNG as data URLs, errors) and a provenance footer.
 * No external resources: a report opens from disk with no server.
 */
import { marked } from "marked";
import { joinText, type Notebook, type Output } from "./nbformat";

/** Facts printed in a report's footer (commit, date, node version, ...). */
export type ProvenanceFooter = Record<string, string | number | boolean | null>;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

// Terminal colour codes and carriage-return redraws (progress bars) are noise in a page.
const terminalText = (s: string) =>
  s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "").split("\n").map((line) => line.slice(line.lastIndexOf("\r") + 1)).join("\n");

export const REPORT_CSS = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1, h2, h3 { line-height: 1.2; }
pre { background: #f6f8fa; padding: .7em 1em; overflow-x: auto; border-radius: 4px; font-size: 13px; }
pre.code { border-left: 3px solid #6a8fd8; }
pre.stream { background: #fff; border: 1px solid #eee; }
pre.stderr { background: #fff6f0; }
pre.error { background: #fdecec; color: #a00; }
.output { margin: .4em 0 1.2em; overflow-x: auto; }
.output svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: .5em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th { background: #f0f3f8; }
caption { caption-side: top; font-weight: 600; text-align: left; padding: 4px 0; }
footer { margin-top: 3em; border-top: 1px solid #ddd; color: #666; font-size: 12px; }
footer td, footer th { text-align: left; }
nav a { margin-right: 1em; }
li { margin-bottom: .6em; }
.key-figure { font-weight: 600; }
.data-provenance { color: #666; font-size: 12px; }
`;

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
      if (data["image/svg+xml"] !== undefined) return `<div class="output figure">${text("image/svg+xml")}</div>`;
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

/** The index page linking every report. */
/** The index page linking every report, with its key figure and the data it read when known. */
export function reportIndexHtml(
  reports: { title: string; file: string; summary?: string; keyFigure?: string; data?: string }[],
  provenance: ProvenanceFooter = {},
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
  return page("hakmem-ts reports", `<h1>hakmem-ts reports</h1>\n<ul>\n${items}\n</ul>\n${footer(provenance)}`);
}

function footer(provenance: ProvenanceFooter): string {
  const rows = Object.entries(provenance)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join("");
  return `<footer><p>Provenance</p><table>${rows}</table></footer>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<nav><a href="index.html">all reports</a></nav>
${body}
</body>
</html>
`;
}
