/**
 * The one script every report page with charts loads (reports/assets/report-charts.js): vega, vega-lite
 * and vega-embed from their npm builds, then the page glue. One shared copy for all pages of a report
 * folder (about 0.8 MB once, instead of in every page); a page opened alone still shows its static SVGs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/** Where pages load it from, relative to the report folder. */
export const CHART_SCRIPT = "assets/report-charts.js";

// Each package's minified browser build sits beside its main file.
const LIBRARIES = ["vega", "vega-lite", "vega-embed"].map((pkg) => path.join(path.dirname(require.resolve(pkg)), `${pkg}.min.js`));
const GLUE = path.join(__dirname, "browser", "report-charts.js");

/** The script's text; source-map references are dropped (the maps are not shipped). */
export function chartScript(): string {
  return [...LIBRARIES, GLUE].map((file) => readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/gm, "")).join("\n;\n");
}

/** Writes the script into a report folder; returns its path. */
export function writeChartAssets(reportDir: string): string {
  const file = path.join(reportDir, CHART_SCRIPT);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, chartScript());
  return file;
}
