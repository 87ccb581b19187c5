/**
 * The standard suite's figures from a result set of the matrix's suite profiles: per test and
 * allocator, the median time and peak memory over its runs and both relative to glibc (`system`) on
 * the same test, each allocator's geometric mean over the tests, and why a cell or a memory figure is
 * missing. Lower is better for both ratios.
 */
import { isAllocatorName, isNativeAllocator } from "../bench/adapters/allocators";
import { allocatorLabel } from "../bench/matrix/compare";
import { MATRIX_BENCHES } from "../bench/matrix/matrix";
import type { CsvRow } from "../bench/matrix/results-csv";
import { median } from "../bench/matrix/statistics";
import { mainEngine } from "./result-rows";
import { groupBy, seriesOrder, SYSTEM } from "./specs/aggregate";

/** One test on one allocator. */
export interface SuiteCell {
  /** The workload's name (with its arguments where the set holds the test at several). */
  test: string;
  /** Its positional arguments, as the matrix ran it. */
  args: string;
  threads: number;
  allocator: string;
  /** Runs measured (skipped ones not counted). */
  runs: number;
  /** Median seconds of the timed run, and median peak memory in bytes over the runs that report it. */
  seconds: number | null;
  peakBytes: number | null;
  /** Over glibc's medians on the same test; null where either side has no figure. */
  time: number | null;
  memory: number | null;
  /** Why the allocator did not run the test (every run skipped), else null. */
  skipped: string | null;
  /** Why the cell, though measured, has no memory ratio, else null. */
  memoryMissing: string | null;
}

/** An allocator's geometric mean of its ratios, over the tests where it and glibc have the figure. */
export interface SuiteGeomean {
  allocator: string;
  time: number | null;
  timeTests: number;
  memory: number | null;
  memoryTests: number;
}

export interface SuiteFigures {
  /** Tests in the order the matrix ran them (the registry's). */
  tests: string[];
  /** glibc first, then by name. */
  allocators: string[];
  engine: string | null;
  cells: SuiteCell[];
  geomeans: SuiteGeomean[];
}

export function geometricMean(values: readonly number[]): number | null {
  return values.length ? Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length) : null;
}

/** The suite rows of a set (not the matrix's own benches), on one engine (the running node's, else the first). */
export function suiteFigures(rows: readonly CsvRow[], engine: string | null = mainEngine(rows)): SuiteFigures {
  const suite = rows.filter((r) => !(MATRIX_BENCHES as readonly string[]).includes(r.bench) && (engine === null || r.engine === engine));
  const argLists = groupBy(suite, (r) => r.bench);
  const testOf = (r: CsvRow) => (new Set(argLists.get(r.bench)!.map((x) => x.size)).size > 1 ? `${r.bench} (${r.size})` : r.bench);
  const tests = [...new Set(suite.map(testOf))];
  const allocators = seriesOrder(suite.map(allocatorLabel));
  const measuredCells = [...groupBy(suite, (r) => JSON.stringify([testOf(r), allocatorLabel(r)])).values()].map((cell) => {
    const ran = cell.filter((r) => r.skipped === "");
    const memories = ran.filter((r) => r.peakHeapBytes !== "").map((r) => Number(r.peakHeapBytes));
    return {
      test: testOf(cell[0]),
      args: cell[0].size,
      threads: Number(cell[0].threads),
      allocator: allocatorLabel(cell[0]),
      runs: ran.length,
      seconds: ran.length ? median(ran.map((r) => Number(r.seconds))) : null,
      peakBytes: memories.length ? median(memories) : null,
      skipped: ran.length ? null : [...new Set(cell.map((r) => r.skipped))].join("; "),
    };
  });
  const glibc = new Map(measuredCells.filter((c) => c.allocator === SYSTEM).map((c) => [c.test, c]));
  const cells: SuiteCell[] = measuredCells.map((c) => {
    const base = glibc.get(c.test);
    const ratio = (own: number | null, of: number | null | undefined) => (own !== null && of ? own / of : null);
    return {
      ...c,
      time: ratio(c.seconds, base?.seconds),
      memory: ratio(c.peakBytes, base?.peakBytes),
      memoryMissing: c.skipped !== null ? null : whyNoMemory(c.allocator, c.peakBytes, base?.peakBytes),
    };
  });
  const geomeans = allocators.map((allocator) => {
    const own = cells.filter((c) => c.allocator === allocator);
    const times = own.map((c) => c.time).filter((x): x is number => x !== null);
    const memories = own.map((c) => c.memory).filter((x): x is number => x !== null);
    return { allocator, time: geometricMean(times), timeTests: times.length, memory: geometricMean(memories), memoryTests: memories.length };
  });
  return { tests, allocators, engine, cells, geomeans };
}

/** Why a measured cell has no memory ratio: its own figure or glibc's is missing (or zero), or null. */
function whyNoMemory(allocator: string, own: number | null, glibc: number | null | undefined): string | null {
  if (own === null) return `${allocator} reported no peak memory: ${noMemoryFigure(allocator)}`;
  if (glibc === undefined) return "glibc did not run this test";
  if (glibc === null) return `glibc reported no peak memory: ${noMemoryFigure(SYSTEM)}`;
  if (glibc === 0) return "glibc's peak resident growth was 0 (no ratio to it)";
  return null;
}

/** What each kind of allocator measures its memory with, and so why a run can lack the figure. */
function noMemoryFigure(allocator: string): string {
  const name = allocator.split(":")[0];
  if (name === "hakmem") return "the run gave no peakHeapBytes";
  if (!isAllocatorName(name)) return "an allocator this lab does not know";
  if (isNativeAllocator(name)) return "its C harness printed no peakResidentBytes (or /proc/self/clear_refs was not writable)";
  if (name === "v8") return "the JS engine's garbage-collected heap has no per-run peak";
  return "its heap reports no peak on the stress tests";
}
