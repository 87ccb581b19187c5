// Vega-Lite 5 -> Vega -> static SVG, rendered headless; in a notebook shown as
// the SVG plus the interactive Vega-Lite bundle for front ends that render it.
import * as vega from "vega";
import * as vl from "vega-lite";
import { showBundle } from "./display";

export type VegaLiteSpec = vl.TopLevelSpec;

import { VEGA_LITE_MIME } from "./html-page";

/** Renders a Vega-Lite spec to a standalone SVG document. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface PlotOptions {
  /** Also send the interactive Vega-Lite bundle (default true); the SVG is always sent. */
  interactive?: boolean;
}

/**
 * In a notebook: shows the plot and resolves to undefined (so tslab prints no
 * copy of the SVG). Elsewhere: resolves to the SVG string.
 */
export async function plot(spec: VegaLiteSpec, options: PlotOptions = {}): Promise<string | undefined> {
  const svg = await renderSvg(spec);
  const bundle: Record<string, unknown> = { "image/svg+xml": svg, "text/plain": describe(spec) };
  if (options.interactive ?? true) bundle[VEGA_LITE_MIME] = spec;
  return showBundle(bundle, (display) => display.svg(svg)) ? undefined : svg;
}

// The text/plain part of the bundle, for front ends that show no images.
function describe(spec: VegaLiteSpec): string {
  const title = typeof spec.title === "object" && !Array.isArray(spec.title) ? spec.title.text : spec.title;
  return typeof title === "string" ? `<Vega-Lite plot: ${title}>` : "<Vega-Lite plot>";
}
