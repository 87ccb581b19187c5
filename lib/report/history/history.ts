/**
 * Key figures over commits: every (result set, commit) is one point per figure and workload, ordered
 * by commit date (the measurement date where the checkout does not know the commit). Each point is
 * compared with the one before it on the same line (figure, workload, profile) as compare compares
 * two sets: a bootstrap interval of the ratio of medians and a rank-sum test. A change is beyond the
 * noise when the test says so at p < 0.05 and the interval leaves out 1.
 */
import { ALPHA, type ResultSet } from "../../bench/matrix/compare";
import { machineOf } from "../../bench/matrix/provenance";
import { bootstrapMedianRatio, mannWhitneyU } from "../../bench/matrix/statistics";
import { ratioLabel } from "../specs/style";
import { commitDate } from "./commit-dates";
import { KEY_FIGURES, keyFigureSamples } from "./key-figures";

export type Verdict = "first" | "within noise" | "better" | "worse";

export interface HistoryPoint {
  figure: string;
  workload: string;
  /** The line it belongs to: the workload, and the profile (run lengths differ between profiles). */
  line: string;
  set: string;
  commit: string;
  dirty: boolean;
  /** Commit date, else when it was measured: the x axis. */
  date: string;
  dateSource: "commit" | "measured";
  measured: string;
  machine: string;
  profile: string;
  runs: number;
  value: number;
  /** This point over the previous one on its line, with the bootstrap interval and the rank-sum p. */
  change: number | null;
  changeInterval: string | null;
  p: number | null;
  verdict: Verdict;
}

export interface History {
  /** The sets read, in the order given. */
  sets: string[];
  points: HistoryPoint[];
  /** Key figures no set holds, each with why. */
  missing: { figure: string; why: string }[];
}

/** What a set was measured with: its sessions that wrote rows, by commit. */
function sessionsOf(set: ResultSet, commit: string) {
  const sessions = (set.record?.sessions ?? []).filter((s) => s.rowsWritten > 0 && (s.provenance.commit ?? "") === commit);
  const profiles = [...new Set(sessions.map((s) => s.profile))];
  const cycles = [...new Set(set.rows.filter((r) => r.commit === commit && r.bench !== "replay").map((r) => r.cycles))];
  return {
    profile: profiles.join("+") || `${cycles.join("/")} cycles`,
    measured: sessions.map((s) => s.finishedAt ?? s.startedAt).sort().at(-1) ?? "unknown",
    machine: [...new Set(sessions.map((s) => machineOf(s.provenance)))].join(" | ") || "unknown (no provenance record)",
  };
}

export function buildHistory(sets: readonly ResultSet[], gitDir: string = process.cwd()): History {
  const dates = new Map<string, string | null>();
  const points = sets.flatMap((set) =>
    keyFigureSamples(set.rows).map((s) => {
      if (!dates.has(s.commit)) dates.set(s.commit, commitDate(s.commit, gitDir));
      const about = sessionsOf(set, s.commit);
      const committed = dates.get(s.commit) ?? null;
      return {
        point: {
          figure: s.figure, workload: s.workload, line: `${s.workload} · ${about.profile}`, set: `${set.name}.csv`,
          commit: s.commit.slice(0, 10) || "none", dirty: s.dirty,
          date: committed ?? about.measured, dateSource: committed ? "commit" : "measured", measured: about.measured,
          machine: about.machine, profile: about.profile, runs: s.samples.length, value: s.value,
          change: null, changeInterval: null, p: null, verdict: "first",
        } satisfies HistoryPoint as HistoryPoint,
        samples: s.samples,
      };
    }),
  );
  const time = (iso: string) => (Number.isNaN(Date.parse(iso)) ? Infinity : Date.parse(iso));
  points.sort((a, b) => time(a.point.date) - time(b.point.date) || time(a.point.measured) - time(b.point.measured));
  const previous = new Map<string, number[]>();
  for (const { point, samples } of points) {
    const key = `${point.figure}|${point.line}`;
    const before = previous.get(key);
    previous.set(key, samples);
    if (!before) continue;
    const ci = bootstrapMedianRatio(before, samples);
    const test = mannWhitneyU(before, samples);
    const beyondNoise = test.p < ALPHA && (ci.low > 1 || ci.high < 1);
    const up = ci.ratio > 1;
    const better = KEY_FIGURES.find((f) => f.id === point.figure)!.better === "higher" ? up : !up;
    Object.assign(point, {
      change: ci.ratio,
      changeInterval: `${ratioLabel(ci.low)}–${ratioLabel(ci.high)}`,
      p: test.p,
      verdict: beyondNoise ? (better ? "better" : "worse") : "within noise",
    });
  }
  const held = new Set(points.map((p) => p.point.figure));
  return {
    sets: sets.map((s) => `${s.name}.csv`),
    points: points.map((p) => p.point),
    missing: KEY_FIGURES.filter((f) => !held.has(f.id)).map((f) => ({ figure: f.id, why: `no result set holds it (${f.about})` })),
  };
}
