/**
 * `replay --breakdown` (hakmem): where the time of a replay goes, per op kind and tier (tiny, mid, large
 * by the heap's own tier limits; realloc in place or moved; calloc with its zeroing), from one pass
 * with every op timed on its own, and the heap's free routes. Each op's clock read is in its time:
 * means are given less the clock's cost (timerCostNs), totals from those means.
 */
import type { Heap } from '../../alloc/heap';
import { OP_FREE, OP_REALLOC, requestBytes, type Trace } from '../../trace/trace';
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import { LATENCY_OPS, timerCostNs } from './latency';
import { madeBytes, opTimedPass, type ReplayState } from '../workloads/replay';

export interface BreakdownRow {
  /** malloc, calloc, realloc, aligned, free. */
  op: string;
  tier: 'tiny' | 'mid' | 'large';
  /** realloc: `in place` or `moved`; '' otherwise. */
  how: string;
  count: number;
  /** Mean ns per op, the clock's cost taken off (not below 0). */
  meanNs: number;
  /** count * meanNs, in ms, and its share of all rows' total. */
  totalMs: number;
  share: number;
}

export interface Breakdown {
  method: string;
  timerCostNs: number;
  rows: BreakdownRow[];
  /** The heap's frees per route over the whole run (heap.stats().routes). */
  routes: ReturnType<Heap['stats']>['routes'];
}

export function replayBreakdown(a: ReplayAllocator<number>, heap: Heap, t: Trace, st: ReplayState<number>): Breakdown {
  const timerCost = timerCostNs();
  const cells = new Map<string, { op: string; tier: BreakdownRow['tier']; how: string; count: number; ns: number }>();
  opTimedPass(a, t, st, (i, before, ns) => {
    const k = t.kind[i];
    const id = t.id[i];
    // A free's block is sized by its allocation (made, at least 1 byte); an allocation by its request.
    const bytes = k === OP_FREE ? madeBytes(st, id) : Math.max(1, requestBytes(t, i));
    const tier = heap.tierOf(bytes);
    const how = k === OP_REALLOC ? (st.blocks[id] === before ? 'in place' : 'moved') : '';
    const key = `${k} ${tier} ${how}`;
    const cell = cells.get(key) ?? { op: LATENCY_OPS[k], tier, how, count: 0, ns: 0 };
    cell.count++;
    cell.ns += ns;
    cells.set(key, cell);
  });
  const rows = [...cells.values()].map((c) => {
    const meanNs = Math.max(0, c.ns / c.count - timerCost);
    return { op: c.op, tier: c.tier, how: c.how, count: c.count, meanNs, totalMs: (c.count * meanNs) / 1e6, share: 0 };
  });
  const total = rows.reduce((sum, r) => sum + r.totalMs, 0);
  for (const r of rows) r.share = total > 0 ? r.totalMs / total : 0;
  rows.sort((x, y) => y.totalMs - x.totalMs);
  return {
    method: 'one pass, every op timed on its own (performance.now()), its mean less the clock read',
    timerCostNs: timerCost,
    rows,
    routes: heap.stats().routes,
  };
}

/** The breakdown as a table for a terminal. */
export function formatBreakdown(b: Breakdown): string {
  const header = ['op', 'tier', 'count', 'mean ns', 'total ms', 'share'];
  const body = b.rows.map((r) => [
    r.op + (r.how ? ` (${r.how})` : ''),
    r.tier,
    r.count.toLocaleString('en-US'),
    r.meanNs.toFixed(1),
    r.totalMs.toFixed(2),
    `${(100 * r.share).toFixed(1)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((f, i) => (i < 2 ? f.padEnd(widths[i]) : f.padStart(widths[i]))).join('  ');
  const routes = Object.entries(b.routes)
    .filter(([, n]) => n !== null)
    .map(([route, n]) => `${route} ${n}`)
    .join(', ');
  return [
    `breakdown: ${b.method}; clock read ${b.timerCostNs.toFixed(1)} ns taken off each op`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    `frees by route (the heap's counters): ${routes}`,
  ].join('\n');
}
