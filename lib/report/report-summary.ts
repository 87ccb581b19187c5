/**
 * A report's key figure and the provenance of the data it read, emitted by a notebook as one output
 * (a JSON MIME bundle with a text line for readers) that `npm run notebooks` collects for the report
 * index: which set (newest results, committed reference, or measured live), commit, machine, date.
 */
import type { LocatedSet } from "../bench/matrix/locations";
import type { ResultSet } from "../bench/matrix/compare";
import { collectProvenance, machineOf } from "../bench/matrix/provenance";
import { showBundle } from "./display";

export const REPORT_SUMMARY_MIME = "application/vnd.hakmem.report-summary+json";

export interface DataProvenance {
  /** The set's path, or "measured live" for a notebook that measures as it runs. */
  set: string;
  kind: LocatedSet["kind"] | "live";
  commit: string;
  machine: string;
  date: string;
}

export interface ReportSummary {
  keyFigure: string;
  data: DataProvenance;
}

/** Shows the summary under the cell (and in the HTML report) and leaves it for the index. */
export function reportSummary(summary: ReportSummary): void {
  const text = `key figure: ${summary.keyFigure}\ndata: ${describeData(summary.data)}`;
  if (!showBundle({ [REPORT_SUMMARY_MIME]: summary, "text/plain": text }, (d) => d.text(text))) console.log(text);
}

export function describeData(d: DataProvenance): string {
  return `${d.set} (${d.kind === "live" ? "measured when the notebook ran" : d.kind === "results" ? "newest results" : "committed reference"}), commit ${d.commit}, ${d.machine}, ${d.date}`;
}

/** Where a saved set came from: its rows' commits, its sessions' machines, its last session's date. */
export function setProvenance(set: ResultSet, located: Pick<LocatedSet, "path" | "kind">): DataProvenance {
  const sessions = (set.record?.sessions ?? []).filter((s) => s.rowsWritten > 0);
  const distinct = (xs: string[]) => [...new Set(xs)].join(", ") || "unknown";
  return {
    set: `${located.path}.csv`,
    kind: located.kind,
    commit: distinct(set.rows.map((r) => `${r.commit.slice(0, 10) || "none"}${r.dirty === "true" ? " (dirty)" : ""}`)),
    machine: distinct(sessions.map((s) => machineOf(s.provenance))),
    date: sessions.map((s) => s.finishedAt ?? s.startedAt).sort().at(-1) ?? "unknown",
  };
}

/** Data a notebook measured as it ran: this checkout, this machine, now. */
export function liveProvenance(): DataProvenance {
  const p = collectProvenance();
  return {
    set: "measured live",
    kind: "live",
    commit: `${p.commit?.slice(0, 10) ?? "none"}${p.dirty ? " (dirty)" : ""}`,
    machine: machineOf(p),
    date: p.date,
  };
}
