/**
 * The shell of every report page (notebook reports, the index, the history): style, navigation,
 * provenance footer, and charts. A chart is its static SVG plus its Vega-Lite spec, which the report
 * folder's shared script (chart-assets.ts) renders live; the SVG stays for readers without scripts
 * and for print. No external resources: a page opens from disk with no server.
 */
import { CHART_SCRIPT } from "./chart-assets";

/** The interactive bundle type notebooks emit beside the SVG (plot.ts). */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** Facts printed in a report's footer (commit, date, node version, ...). */
export type ProvenanceFooter = Record<string, string | number | boolean | null>;

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const REPORT_CSS = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1, h2, h3 { line-height: 1.2; }
pre { background: #f6f8fa; padding: .7em 1em; overflow-x: auto; border-radius: 4px; font-size: 13px; }
pre.code { border-left: 3px solid #6a8fd8; }
pre.stream { background: #fff; border: 1px solid #eee; }
pre.stderr { background: #fff6f0; }
pre.error { background: #fdecec; color: #a00; }
.output { margin: .4em 0 1.2em; overflow-x: auto; }
.output.figure svg, .chart-static svg { max-width: 100%; height: auto; }
@media screen { figure.chart.live > .chart-static { display: none; } }
@media print { figure.chart > .chart-live { display: none; } }
figure.chart { margin: 0; }
.trends { display: flex; flex-wrap: wrap; gap: 1.5em; }
.trends figure.chart { display: inline-block; }
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

/**
 * A chart: its static SVG, and its Vega-Lite spec for the page script to render live. The spec sits in
 * a JSON script element, with "<" escaped so no string in it can close the element.
 */
export function chartHtml(spec: unknown, svg: string, className = "output"): string {
  const json = JSON.stringify(spec).replace(/</g, "\\u003c");
  return `<figure class="${className} chart"><div class="chart-static">${svg}</div><script type="${VEGA_LITE_MIME}">${json}</script></figure>`;
}

/** The provenance table at the foot of a page. */
export function footer(provenance: ProvenanceFooter): string {
  const rows = Object.entries(provenance)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join("");
  return `<footer><p>Provenance</p><table>${rows}</table></footer>`;
}

/** A whole page; it loads the chart script only when it has charts. */
export function page(title: string, body: string): string {
  const charts = body.includes(`<script type="${VEGA_LITE_MIME}">`) ? `\n<script defer src="${CHART_SCRIPT}"></script>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>${charts}
</head>
<body>
<nav><a href="index.html">all reports</a></nav>
${body}
</body>
</html>
`;
}
