// mimalloc-bench's chart of the standard suite: per test, each allocator's time or peak memory over
// glibc's on that test (lower is better; glibc is the 1.00× line), and a last group with each
// allocator's geometric mean. Bars stop at a cap so one outlier does not flatten the rest; a capped
// bar is labelled with its own value above the cap.
import type { VegaLiteSpec } from "../plot";
import type { SuiteFigures } from "../suite-figures";
import { SYSTEM } from "./aggregate";
import { groupedBars } from "./grouped-bars";

/** The last group of the chart: each allocator's geometric mean over the tests. */
export const GEOMEAN = "geometric mean";

export const DEFAULT_CAP = 3;

export type SuiteMeasure = "time" | "memory";

/** One bar: `shown` is the ratio capped; `label` always the ratio itself. */
export interface SuiteBar {
  test: string;
  series: string;
  ratio: number;
  shown: number;
  capped: boolean;
  label: string;
  /** The allocator's median and glibc's ("12.3 ms", "4.21 MiB"); for the geometric mean, over how many tests. */
  own: string;
  glibc: string;
  runs: number | string;
}

/** Three significant digits, so a capped bar's label stays about as narrow as the bar: 0.873×, 3.42×, 41.8×, 127×. */
export function suiteRatioLabel(ratio: number): string {
  return `${ratio >= 100 ? ratio.toFixed(0) : ratio.toPrecision(3)}×`;
}

const formatOf: Record<SuiteMeasure, (x: number) => string> = {
  time: (seconds) => (seconds < 1 ? `${(seconds * 1e3).toPrecision(3)} ms` : `${seconds.toPrecision(3)} s`),
  memory: (bytes) => `${(bytes / 2 ** 20).toPrecision(3)} MiB`,
};

/** The bars of one chart: a bar per allocator (glibc aside) and test where both have the figure, then the geometric means. */
export function suiteBarPoints(figures: SuiteFigures, measure: SuiteMeasure, cap = DEFAULT_CAP): SuiteBar[] {
  const bar = (test: string, series: string, ratio: number, rest: Pick<SuiteBar, "own" | "glibc" | "runs">): SuiteBar => ({
    test, series, ratio, shown: Math.min(ratio, cap), capped: ratio > cap, label: suiteRatioLabel(ratio), ...rest,
  });
  const figureOf = (c: SuiteFigures["cells"][number]) => (measure === "time" ? c.seconds : c.peakBytes);
  const glibc = new Map(figures.cells.filter((c) => c.allocator === SYSTEM).map((c) => [c.test, figureOf(c)]));
  const perTest = figures.cells.flatMap((c) => {
    const ratio = c[measure];
    if (c.allocator === SYSTEM || ratio === null) return [];
    return [bar(c.test, c.allocator, ratio, { own: formatOf[measure](figureOf(c)!), glibc: formatOf[measure](glibc.get(c.test)!), runs: c.runs })];
  });
  const means = figures.geomeans.flatMap((g) => {
    const ratio = g[measure];
    const tests = measure === "time" ? g.timeTests : g.memoryTests;
    if (g.allocator === SYSTEM || ratio === null) return [];
    return [bar(GEOMEAN, g.allocator, ratio, { own: `over ${tests} test${tests === 1 ? "" : "s"}`, glibc: "1.00×", runs: "-" })];
  });
  return [...perTest, ...means];
}

export function suiteBars(figures: SuiteFigures, measure: SuiteMeasure, title: string, cap = DEFAULT_CAP): VegaLiteSpec {
  const points = suiteBarPoints(figures, measure, cap);
  const what = measure === "time" ? "time" : "peak memory";
  return groupedBars({
    title,
    points,
    // Test names are wider than a group of a few bars: slanted, they do not run into each other.
    group: { field: "test", sort: [...figures.tests, GEOMEAN], title: "test", labelAngle: -35 },
    bars: { field: "series", sort: figures.allocators.filter((a) => a !== SYSTEM), title: "allocator" },
    value: { field: "shown", title: `${what} × glibc (median; lower is better; bars stop at ${cap}×)` },
    max: cap,
    label: "label",
    tooltip: [
      { field: "series", title: "allocator" }, { field: "test" }, { field: "label", title: `${what} vs glibc` },
      { field: "own", title: `${what} (median)` }, { field: "glibc", title: `glibc's ${what} (median)` }, { field: "runs", title: "runs" },
    ],
    unitLabel: "glibc = 1.00×",
  });
}
