/**
 * Every workload the lab runs, in the order --help lists them. The bench command line, its usage,
 * the runner, the matrix's suite profiles and the notebooks read this list and nothing else.
 *
 * Adding a workload (WORKLOADS.md, "Adding a workload", says it in full):
 *   1. specify it in WORKLOADS.md (its loop, what one op is, its fingerprint);
 *   2. write `lib/bench/workloads/NAME.workload.ts` exporting a `Workload` (workload.ts): its name,
 *      description, positional `args` (bounds, defaults, help), `check` for problems across arguments,
 *      `threads`, its TypeScript run (`ts`: kind 'single', any in-process allocator; or kind 'threads',
 *      worker threads on one shared hakmem heap), its C harness (`native`: scripts/native/HARNESS.c,
 *      including harness.h, built by lib/build), `fingerprint` (the reference, computed without
 *      allocating) and `suite` (its arguments in the matrix's suite profiles);
 *   3. add it to WORKLOADS below. Nothing else lists workloads.
 */
import { cacheScratchWorkload } from './cache-scratch.workload';
import { cacheThrashWorkload } from './cache-thrash.workload';
import { crossThreadWorkload } from './cross-thread.workload';
import { larsonWorkload } from './larson.workload';
import { fixedWorkload, randomMixedWorkload } from './random-mixed.workload';
import { allocTestWorkload } from './alloc-test.workload';
import { glibcSimpleWorkload } from './glibc-simple.workload';
import { glibcThreadWorkload } from './glibc-thread.workload';
import { mallocLargeWorkload } from './malloc-large.workload';
import { mstressWorkload } from './mstress.workload';
import { replayWorkload } from './replay.workload';
import { rptestWorkload } from './rptest.workload';
import { sh6benchWorkload } from './sh6bench.workload';
import { sh8benchWorkload } from './sh8bench.workload';
import type { Workload } from './workload';
import { xmallocTestWorkload } from './xmalloc-test.workload';

export const WORKLOADS: readonly Workload[] = [
  randomMixedWorkload,
  fixedWorkload,
  larsonWorkload,
  crossThreadWorkload,
  replayWorkload,
  cacheScratchWorkload,
  cacheThrashWorkload,
  rptestWorkload,
  sh6benchWorkload,
  sh8benchWorkload,
  allocTestWorkload,
  glibcSimpleWorkload,
  glibcThreadWorkload,
  mallocLargeWorkload,
  mstressWorkload,
  xmallocTestWorkload,
];

export const WORKLOAD_NAMES: readonly string[] = WORKLOADS.map((w) => w.name);

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

export function workloadNamed(name: string): Workload {
  const w = findWorkload(name);
  if (!w) throw new Error(`no workload '${name}' (registered: ${WORKLOAD_NAMES.join(', ')})`);
  return w;
}

/** The workloads in the matrix's suite profiles. */
export function suiteWorkloads(): Workload[] {
  return WORKLOADS.filter((w) => w.suite !== undefined);
}
