/**
 * The history as pages: history.html with one chart per key figure over commits, the sets it read and
 * the figures no set holds; and a small trend per figure for the report index.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { writeChartAssets } from "../chart-assets";
import { chartHtml, escapeHtml, page } from "../html-page";
import { renderSvg } from "../plot";
import { historySparkline, historyTrend } from "../specs/history-trend";
import type { History } from "./history";
import { KEY_FIGURES, NOT_RECORDED } from "./key-figures";

export const HISTORY_FILE = "history.html";

const figuresHeld = (history: History) => KEY_FIGURES.filter((f) => history.points.some((p) => p.figure === f.id));

export async function historyPageHtml(history: History): Promise<string> {
  const sections = [];
  for (const figure of figuresHeld(history)) {
    const spec = historyTrend(history.points.filter((p) => p.figure === figure.id), figure.title, figure.unit);
    sections.push(`<h2>${escapeHtml(figure.title)}</h2>\n<p>${escapeHtml(figure.about)}.</p>\n${chartHtml(spec, await renderSvg(spec))}`);
  }
  const missing = [...history.missing.map((m) => `${KEY_FIGURES.find((f) => f.id === m.figure)!.title}: ${m.why}`), ...NOT_RECORDED];
  const body = [
    "<h1>Key figures over commits</h1>",
    "<p>Each point is one result set at one commit, placed at the commit's date. Hover a point for its value, runs and provenance; " +
      "a triangle marks a change from the point before on its line that is beyond the noise (rank-sum p &lt; 0.05 and a bootstrap " +
      "95% interval of the ratio of medians that leaves out 1, as <code>npm run compare</code> decides). Wheel to zoom, drag to pan, " +
      "click a legend entry to pick one workload.</p>",
    ...sections,
    missing.length ? `<h2>Not shown</h2>\n<ul>${missing.map((m) => `<li>${escapeHtml(m)}</li>`).join("")}</ul>` : "",
    `<h2>Result sets read</h2>\n<ul>${history.sets.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>`,
  ];
  return page("hakmem-ts: key figures over commits", body.join("\n"));
}

/** One small trend per key figure, linking to the history page: for the report index. */
export async function historyTrendsHtml(history: History): Promise<string> {
  const items = [];
  for (const figure of figuresHeld(history)) {
    const spec = historySparkline(history.points.filter((p) => p.figure === figure.id), figure.unit);
    items.push(`<div><a href="${HISTORY_FILE}">${escapeHtml(figure.title)}</a>${chartHtml(spec, await renderSvg(spec), "trend")}</div>`);
  }
  return items.length ? `<h2>Over commits</h2>\n<div class="trends">${items.join("\n")}</div>` : "";
}

/** Writes history.html (and the chart script) into a report folder; returns the page's path. */
export async function writeHistoryPage(history: History, out: string): Promise<string> {
  writeChartAssets(out);
  const file = path.join(out, HISTORY_FILE);
  writeFileSync(file, await historyPageHtml(history));
  return file;
}
