// Report helpers for notebooks and scripts: tables, plots, chart specs, progress.
export { inNotebook, showBundle } from "./display";
export { table, tableHtml } from "./table";
export type { TableInput, TableOptions } from "./table";
export { plot, renderSvg } from "./plot";
export type { PlotOptions, VegaLiteSpec } from "./plot";
export { progress } from "./progress";
export type { Progress } from "./progress";
export { throughputBySize } from "./specs/throughput-by-size";
export { ratioToSystem } from "./specs/ratio-to-system";
export { engineRatios } from "./specs/engine-ratios";
export { routeShares } from "./specs/route-shares";
export { scaling } from "./specs/scaling";
export { heapMap } from "./specs/heap-map";
export { footprintTimeline } from "./specs/footprint-timeline";
export { latencyPercentiles } from "./specs/latency-percentiles";
export type { HeapCell, LatencyRow, RouteShareRow, ScalingRow, ThroughputRow, TimelineRow } from "./specs/rows";
export { reportSummary, setProvenance, liveProvenance, describeData, REPORT_SUMMARY_MIME } from "./report-summary";
export type { ReportSummary, DataProvenance } from "./report-summary";
