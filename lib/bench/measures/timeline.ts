/**
 * Memory over time: one sample every K ops of a pass, taken in a pass of its own (never in a timed
 * one). The JSON result's `timeline` and the footprintTimeline plot (lib/report) take these rows.
 */
export interface TimelineSample {
  /** Ops done when the sample was taken; the last sample is taken after the last op. */
  op: number;
  /** Requested bytes live (exact, from the trace). */
  liveBytes: number;
  /** The allocator's footprint at that point (see the result's footprintMethod); null where it has none. */
  footprintBytes: number | null;
  /** hakmem only: SuperSlabs, and their slabs in use and empty (kept for reuse). */
  superslabs?: number;
  activeSlabs?: number;
  emptySlabs?: number;
}
