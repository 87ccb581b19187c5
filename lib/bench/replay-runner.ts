/**
 * `bench replay FILE`: reads and checks the trace (untimed), replays it on one allocator (in this
 * process for the TypeScript ones, in scripts/native/replay.c for the native ones) and reports a
 * BenchResult with the footprint, the time split into the harness's (the oracle's) and the
 * allocator's, and on request the timeline, latency percentiles and hakmem's breakdown. A
 * multi-threaded trace replays on a thread per recorded thread (hakmem: workers on one shared heap,
 * threads/replay-threads-run.ts; native: pthreads) unless --serial asks for recorded order on one
 * thread. Also the timeline of random-mixed/fixed, which is a replay of that loop's requests.
 */
import { configHash, resolveConfig } from '../alloc/config';
import { readTrace } from '../trace/read';
import type { Trace } from '../trace/trace';
import type { ReplayAllocator } from './adapters/allocator-adapter';
import { isNativeAllocator, type AllocatorName } from './adapters/allocators';
import { createTsAllocator, type HakmemConfig } from './adapters/index';
import { TIERS_PEAK_METHOD } from './adapters/hakmem';
import { newOffsets } from './adapters/oracle';
import { thingPoolBytesFor } from './adapters/thing';
import type { BenchRequest, RandomMixedArgs } from './cli-args';
import { replayBreakdown } from './measures/breakdown';
import { histogramFromBuckets, LATENCY_OPS, opLatency, type LatencyReport } from './measures/latency';
import { passesWithOracle, ORACLE_METHOD, type OracleOutcome } from './measures/oracle-run';
import type { TimelineSample } from './measures/timeline';
import { binaryTraceFile, cachedBinaryTrace } from './native/binary-trace';
import { isSkipped, runNative } from './native/run-native';
import type { ReplayThreadFigures } from './threads/replay-threads-run';
import { measured, skippedFields, withHeapHint, type BenchResult, type ResultBase } from './runner';
import { randomMixedTrace } from './workloads/random-mixed-trace';
import { afterFootprintPass, footprintPass, latencyPasses, newReplayState, replayFootprint, ReplayOutOfMemory, timedPasses, warmUpPassCount, type ReplayState } from './workloads/replay';
import { checkReplayFingerprint, replayFacts, type ReplayFacts } from './workloads/replay-facts';

type ReplayRequest = Extract<BenchRequest, { bench: 'replay' }>;

export async function runReplay(request: ReplayRequest, base: (h: HakmemConfig | null) => ResultBase): Promise<BenchResult> {
  const { allocator } = request;
  const { file, loops } = request.args;
  const trace = await readTrace(file);
  const facts = replayFacts(trace);
  const timeline = request.timeline ?? undefined;
  const onThreads = facts.recordedThreads > 1 && !request.args.serial;
  if (onThreads) {
    const asked = [timeline && '--timeline', request.latency && '--latency', request.breakdown && '--breakdown'].filter(Boolean);
    if (asked.length) throw new Error(`${asked.join(' and ')} replay serialized: add --serial for ${file}, a trace of ${facts.recordedThreads} threads`);
  }

  if (isNativeAllocator(allocator)) {
    const binary = await binaryTraceFile(file, trace);
    const argv = [binary, loops, '--warmup', warmUpPassCount(trace.length), ...(timeline ? ['--timeline', timeline] : []), ...(request.latency ? ['--latency'] : [])];
    const r = await runNative(allocator, 'replay', onThreads ? argv : [...argv, '--serial']);
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    checkReplayFingerprint(allocator, r.fingerprint, facts);
    const line = r.line as unknown as NativeReplayLine;
    return {
      ...base(null),
      threads: onThreads ? facts.recordedThreads : 1,
      ...measured(r, facts.peakLiveBytes, null),
      ...harnessFields({ ...r, bestPassSeconds: line.bestPassSeconds ?? null }, loops === 0 ? null : nativeOracle(line), trace.length),
      ...replayFields(facts, line.peakFootprintBytes, line.footprintMethod),
      ...(line.warmupPasses !== undefined ? { warmupPasses: line.warmupPasses } : {}),
      ...(line.replayThreads ? threadFields(line.replayThreads, null) : {}),
      ...(line.footprintByStats ? { footprintByStats: line.footprintByStats } : {}),
      ...(timeline ? { timeline: nativeTimeline(line) } : {}),
      ...(line.latency ? { latency: nativeLatency(line.latency) } : {}),
    };
  }

  if (onThreads && allocator === 'hakmem') return replayHakmemOnThreads(request, base, trace, facts);

  const ts = await createTsAllocator(allocator, {
    preset: request.preset,
    build: request.build,
    // thing's pool is sized from the trace's peak instead of a working set's shape.
    slots: facts.peakLiveBlocks,
    maxSize: 0,
    thingPoolBytes: thingPoolBytesFor(facts.peakLiveBlocks, facts.peakLiveBytes),
  });
  const a = ts.allocator;
  try {
    const st = newReplayState(a, trace, facts);
    const footprint = withHeapHint(ts.hakmem, () => footprintPass(a, trace, st, { timeline, shape: ts.shape }));
    // Room for the oracle's blocks, which the last warm-up pass records (passesWithOracle).
    const recorded = a.memory.pointers === 'offsets' ? newOffsets(a.memory.bytes().length, facts.fingerprint.mallocs) : null;
    const byStats = ts.heap ? { bytes: ts.heap.stats().peakHeapBytes, method: TIERS_PEAK_METHOD } : null;
    const guard = <T>(run: () => T) => withHeapHint(ts.hakmem, () => afterFootprintPass(run));
    const { timed: r, oracle } =
      loops > 0 ? await passesWithOracle(a, trace, st, facts, loops, recorded, guard) : { timed: guard(() => timedPasses(a, trace, st, 0)), oracle: null };
    checkReplayFingerprint(allocator, r.fingerprint, facts);
    const latency = request.latency ? latencyPasses(a, trace, st, loops) : null;
    const breakdown = request.breakdown && ts.heap ? replayBreakdown(a as ReplayAllocator<number>, ts.heap, trace, st as ReplayState<number>) : null;
    return {
      ...base(ts.hakmem),
      ...measured(r, facts.peakLiveBytes, ts.peakHeapBytes()),
      ...harnessFields(r, oracle && oracleSeconds(allocator, oracle, facts), trace.length),
      ...replayFields(facts, footprint.peakFootprintBytes, footprint.footprintMethod),
      warmupPasses: r.warmupPasses,
      ...(byStats ? { footprintByStats: byStats } : {}),
      ...(onThreads ? { replayMode: `serialized: ${allocator} has no heap threads share` } : {}),
      ...(footprint.timeline ? { timeline: footprint.timeline } : {}),
      ...(latency ? { latency } : {}),
      ...(breakdown ? { breakdown } : {}),
    };
  } catch (e) {
    if (!(e instanceof ReplayOutOfMemory)) throw e;
    return { ...base(ts.hakmem), ...skippedFields(`${allocator}: ${e.message}`) }; // withHeapHint added the hint
  }
}

/** hakmem with a worker per recorded thread on one shared heap; no oracle (THREADED_NO_ORACLE). */
async function replayHakmemOnThreads(
  request: ReplayRequest,
  base: (h: HakmemConfig | null) => ResultBase,
  trace: Trace,
  facts: ReplayFacts,
): Promise<BenchResult> {
  const { replayOnThreads } = await import('./threads/replay-threads-run');
  const options = { preset: request.preset, build: request.build, align: request.align };
  try {
    const r = await replayOnThreads(options, trace, facts, request.args.loops);
    checkReplayFingerprint('hakmem', r.fingerprint, facts);
    return {
      ...base(r.heap),
      threads: r.threads.length,
      ...measured(r, facts.peakLiveBytes, r.peakFootprintBytes),
      ...harnessFields({ ...r, bestPassSeconds: null }, r.ops === 0 ? null : THREADED_NO_ORACLE, trace.length),
      ...replayFields(facts, r.peakFootprintBytes, r.footprintMethod),
      footprintByStats: r.footprintByStats,
      warmupPasses: r.warmupPasses,
      ...threadFields(r.threads, r.remoteFrees),
    };
  } catch (e) {
    if (!(e instanceof ReplayOutOfMemory)) throw e;
    const c = resolveConfig(options);
    const h = { preset: c.preset, build: c.build, align: c.align, configHash: configHash(c) };
    return { ...base(h), ...skippedFields(`hakmem: ${e.message} (set HAKMEM_HEAP_BYTES for a larger heap)`) };
  }
}

/** Why a threaded replay has no oracle (the C replayer says the same). */
const THREADED_NO_ORACLE =
  "the oracle hands out one pass's addresses, and on threads which block reused which address depended " +
  'on that pass\'s interleaving: another interleaving would hand one address to two live blocks';

/** What a threaded replay adds: each recorded thread's share, the cross-thread frees, hakmem's remote frees. */
function threadFields(threads: ReplayThreadFigures[], remoteFrees: number | null) {
  return {
    replayMode: 'threads',
    replayThreads: threads,
    crossThreadFrees: threads.reduce((n, t) => n + t.crossThreadFrees, 0),
    ...(remoteFrees === null ? {} : { remoteFrees }),
  };
}

/** The oracle's seconds, or why there are none; its fingerprint must be the trace's too. */
function oracleSeconds(allocator: AllocatorName, o: OracleOutcome, facts: ReplayFacts): OracleTime | string {
  if ('error' in o) return o.error;
  checkReplayFingerprint(`${allocator}'s oracle`, o.fingerprint, facts);
  return { seconds: o.seconds, bestPassSeconds: o.bestPassSeconds, method: ORACLE_METHOD };
}

/** The C replayer's oracle seconds, or why there are none. */
function nativeOracle(line: NativeReplayLine): OracleTime | string {
  if (line.oracleMethod?.startsWith('unavailable: ')) return line.oracleMethod.slice('unavailable: '.length);
  if (line.harnessSeconds === undefined || line.oracleMethod === undefined) return 'the native replayer reported no oracle time';
  return { seconds: line.harnessSeconds, bestPassSeconds: line.harnessBestPassSeconds ?? null, method: line.oracleMethod };
}

/** The oracle's timed passes: their sum and the fastest (null without one), and what the oracle was. */
interface OracleTime {
  seconds: number;
  bestPassSeconds: number | null;
  method: string;
}

/**
 * End to end less the harness: `harnessNsPerOp` is the oracle's time per op (the replay loop with no
 * allocator work), `allocatorNsPerOp` the rest; the same from the fastest pass of each (passes of
 * `passOps` ops), the steadier reading where the machine's speed changes between passes. Null with
 * the reason where the oracle did not run.
 */
function harnessFields(r: { ops: number; seconds: number; bestPassSeconds: number | null }, oracle: OracleTime | string | null, passOps: number) {
  const none = (why: string) => ({ harnessNsPerOp: null, allocatorNsPerOp: null, harnessBestPassNsPerOp: null, allocatorBestPassNsPerOp: null, harnessMethod: why });
  if (r.ops === 0 || oracle === null) return none('unavailable: no timed passes');
  if (typeof oracle === 'string') return none(`unavailable: ${oracle}`);
  const harness = (oracle.seconds / r.ops) * 1e9;
  const harnessBest = oracle.bestPassSeconds === null ? null : (oracle.bestPassSeconds / passOps) * 1e9;
  return {
    harnessNsPerOp: harness,
    allocatorNsPerOp: (r.seconds / r.ops) * 1e9 - harness,
    harnessBestPassNsPerOp: harnessBest,
    allocatorBestPassNsPerOp: harnessBest === null || r.bestPassSeconds === null ? null : (r.bestPassSeconds / passOps) * 1e9 - harnessBest,
    harnessMethod: oracle.method,
  };
}

/** The timeline of random-mixed/fixed: its requests as a trace, replayed once with samples every `every` ops. */
export async function randomMixedTimeline(request: BenchRequest, a: RandomMixedArgs, every: number): Promise<TimelineSample[]> {
  const trace = randomMixedTrace(a.cycles, a.ws, a.seed, a.min, a.max);
  const facts = replayFacts(trace);
  const { allocator } = request;
  if (isNativeAllocator(allocator)) {
    const key = `random-mixed-${a.cycles}-${a.ws}-${a.seed}-${a.min}-${a.max}`;
    const r = await runNative(allocator, 'replay', [await cachedBinaryTrace(key, trace), 0, '--timeline', every]);
    if (isSkipped(r)) throw new Error(`timeline: ${r.skipped}`);
    return nativeTimeline(r.line as unknown as NativeReplayLine);
  }
  const ts = await createTsAllocator(allocator, { preset: request.preset, build: request.build, slots: a.ws, maxSize: a.max });
  return replayFootprint(ts.allocator, trace, facts, { timeline: every, shape: ts.shape }).timeline as TimelineSample[];
}

/** What a replay result adds: the trace's threads, the footprint and utilization. */
function replayFields(facts: ReplayFacts, peakFootprintBytes: number | null, footprintMethod: string) {
  return {
    recordedThreads: facts.recordedThreads,
    peakFootprintBytes,
    utilization: peakFootprintBytes ? facts.peakLiveBytes / peakFootprintBytes : null,
    footprintMethod,
  };
}

/** What scripts/native/replay.c adds to the harness line. */
interface NativeReplayLine {
  peakFootprintBytes: number | null;
  footprintMethod: string;
  /** The oracle's timed passes (as many as the allocator's), and the fastest of them. */
  harnessSeconds?: number;
  harnessBestPassSeconds?: number;
  /** The allocator's fastest timed pass. */
  bestPassSeconds?: number;
  /** The untimed passes of each before the timed ones (--warmup; none without timed passes). */
  warmupPasses?: number;
  oracleMethod?: string;
  footprintByStats?: { bytes: number | null; method: string };
  /** Threaded replay: each recorded thread's share (no remote-free count: the native allocators keep none). */
  replayThreads?: ReplayThreadFigures[];
  /** [op, live bytes, resident growth] */
  timeline: [number, number, number][];
  latency?: {
    timerCostNs: number;
    ops: Record<string, { count: number; max: number; buckets: [number, number][] }>;
  };
}

function nativeTimeline(line: NativeReplayLine): TimelineSample[] {
  return line.timeline.map(([op, liveBytes, footprintBytes]) => ({ op, liveBytes, footprintBytes }));
}

function nativeLatency(l: NonNullable<NativeReplayLine['latency']>): LatencyReport {
  const ops: LatencyReport['ops'] = {};
  for (const name of LATENCY_OPS) {
    const kind = l.ops[name];
    if (kind) ops[name] = opLatency(histogramFromBuckets(kind.buckets), kind.max);
  }
  return { clock: 'clock_gettime(CLOCK_MONOTONIC)', timerCostNs: l.timerCostNs, ops };
}
