/**
 * The batch job behind `npm run notebooks`: execute notebooks headlessly with a profile's parameters,
 * save them with their outputs under reports/executed/, export each as a standalone HTML report, and
 * write reports/index.html linking them all, each with its key figure and the provenance of the data
 * it read (a notebook's reportSummary output; one without read nothing saved: it measured live),
 * the key figures over commits (history.html, and a trend per figure on the index) from every result
 * set under results/ and data/, and the chart script the pages share.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REFERENCE_DIR, RESULTS_DIR } from "../bench/matrix/locations";
import { collectProvenance } from "../bench/matrix/provenance";
import { writeChartAssets } from "../report/chart-assets";
import { escapeHtml } from "../report/html-page";
import { buildHistory } from "../report/history/history";
import { historyTrendsHtml, writeHistoryPage } from "../report/history/history-page";
import { findResultSets } from "../report/history/find-result-sets";
import { REPORT_SUMMARY_MIME, describeData, liveProvenance, type ReportSummary } from "../report/report-summary";
import { CellExecutionError } from "./cell-error";
import { notebookToHtml, reportIndexHtml, type ProvenanceFooter } from "./export-html";
import { joinText, readNotebook, type Notebook } from "./nbformat";
import { PROJECT_ROOT } from "./paths";
import { runNotebookFile } from "./run";

export const NOTEBOOK_DIR = path.join(PROJECT_ROOT, "notebooks");

/** Every notebook's name (file name without .ipynb), in file order. */
export function listNotebooks(dir = NOTEBOOK_DIR): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).map((f) => f.slice(0, -".ipynb".length)).sort();
}

export interface BatchOptions {
  names: string[];
  profile: "quick" | "full";
  /** Where reports go (default reports/). */
  out: string;
  /** Called as each notebook starts, and with each cell of it. */
  onNotebook?: (name: string, index: number, total: number) => void;
  onCell?: (done: number, total: number) => void;
}

export interface BatchResult {
  reports: string[];
  index: string;
  failures: CellExecutionError[];
}

/** Runs the notebooks one after another; a failing one is reported and the rest still run. */
export async function runNotebookBatch(options: BatchOptions): Promise<BatchResult> {
  const known = listNotebooks();
  const unknown = options.names.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`no notebook named ${unknown.join(", ")} in notebooks/ (there are: ${known.join(", ")})`);
  const provenance = footerOf(options.profile);
  const reports: string[] = [];
  const failures: CellExecutionError[] = [];
  const entries: IndexEntry[] = [];
  fs.mkdirSync(path.join(options.out, "executed"), { recursive: true });
  for (const [i, name] of options.names.entries()) {
    options.onNotebook?.(name, i, options.names.length);
    const executed = path.join(options.out, "executed", `${name}.ipynb`);
    try {
      await runNotebookFile(path.join(NOTEBOOK_DIR, `${name}.ipynb`), executed, {
        parameters: { profile: options.profile },
        onProgress: options.onCell,
      });
    } catch (e) {
      if (!(e instanceof CellExecutionError)) throw e;
      failures.push(e);
    }
    // Exported also when a cell failed: the report then shows where and why.
    const nb = readNotebook(executed);
    const title = titleOf(nb.cells.find((c) => c.cell_type === "markdown")?.source, name);
    const file = `${name}.html`;
    fs.writeFileSync(path.join(options.out, file), notebookToHtml(nb, title, provenance));
    reports.push(path.join(options.out, file));
    const summary = summaryOf(nb);
    entries.push({
      title,
      file,
      summary: failures.some((f) => f.notebook === `${name}.ipynb`) ? "FAILED, see the report" : undefined,
      keyFigure: summary?.keyFigure,
      data: describeData(summary?.data ?? liveProvenance()),
    });
  }
  writeChartAssets(options.out);
  const index = path.join(options.out, "index.html");
  fs.writeFileSync(index, reportIndexHtml(entries, provenance, await historySection(options.out)));
  return { reports, index, failures };
}

/** Writes history.html from the project's result sets; the index's trends, or why there are none. */
async function historySection(out: string): Promise<string> {
  const dirs = [RESULTS_DIR, REFERENCE_DIR].filter((d) => fs.existsSync(path.join(PROJECT_ROOT, d)));
  try {
    const history = buildHistory(findResultSets(dirs, PROJECT_ROOT, { searching: true }), PROJECT_ROOT);
    await writeHistoryPage(history, out);
    return await historyTrendsHtml(history);
  } catch (e) {
    return `<p class="data-provenance">no history over commits: ${escapeHtml((e as Error).message)}</p>`;
  }
}

type IndexEntry = Parameters<typeof reportIndexHtml>[0][number];

/** The last report summary a notebook's cells displayed, if any. */
export function summaryOf(nb: Notebook): ReportSummary | null {
  let found: ReportSummary | null = null;
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    for (const o of cell.outputs) {
      if ((o.output_type === "display_data" || o.output_type === "execute_result") && o.data[REPORT_SUMMARY_MIME] !== undefined) {
        found = o.data[REPORT_SUMMARY_MIME] as unknown as ReportSummary;
      }
    }
  }
  return found;
}

function titleOf(source: string | string[] | undefined, fallback: string): string {
  const heading = /^#\s+(.+)$/m.exec(joinText(source));
  return heading ? heading[1].trim() : fallback;
}

function footerOf(profile: string): ProvenanceFooter {
  const p = collectProvenance();
  return {
    profile, date: p.date, commit: p.commit ?? "none", dirty: p.dirty, node: p.node, v8: p.v8,
    cpu: `${p.cpuModel} x${p.cpuCount}`, os: p.os,
  };
}
