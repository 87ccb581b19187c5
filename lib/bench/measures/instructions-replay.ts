/**
 * The child process instructions.ts counts under callgrind: one side of a replay's timed passes,
 * nothing else. Started as
 *
 *   node ... instructions-replay.ts heap TRACE PRESET LOOPS RECORDING
 *   node ... instructions-replay.ts oracle TRACE PRESET LOOPS RECORDING
 *
 * `heap`: a fresh hakmem heap of PRESET replays the footprint pass, recording the block of every
 * allocation op (as replay-runner.ts does for its oracle), writes that recording to RECORDING, then
 * runs the warm-up passes and LOOPS timed passes. `oracle`: reads RECORDING and runs the same passes,
 * the footprint pass included, on the OffsetOracle over those blocks (as oracle-worker.ts does), doing
 * no allocator work. Each prints one JSON line: the timed passes' ops and fingerprint, for the parent
 * to check against the trace's, and the heap's configuration (`heap` only).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createHeap, isPresetName } from '../../index';
import { readTrace } from '../../trace/read';
import type { Trace } from '../../trace/trace';
import { HakmemAllocator } from '../adapters/hakmem';
import { newOffsets, OffsetOracle, type Offsets } from '../adapters/oracle';
import { footprintPass, newReplayState, timedPasses, warmUpPassCount, type TimedPasses, type WarmUp } from '../workloads/replay';
import { replayFacts } from '../workloads/replay-facts';

/**
 * The bench's warm-up (warmUpPassCount: 16 million ops), so that the counts are of the code the timed
 * passes run, V8's optimised slow paths included; with no stop on time, as under callgrind a pass
 * takes hundreds of times as long and the runs of LOW and HIGH timed passes must follow the same
 * warm-up for their difference to cancel it.
 */
function countedWarmUp(trace: Trace): WarmUp {
  return { passes: warmUpPassCount(trace.length), maxSeconds: Infinity };
}

/** RECORDING's header: the heap's memory bytes, then the bytes of one offset (4: Int32Array, 8: Float64Array). */
const HEADER_WORDS = 2;

export function writeRecording(file: string, memoryBytes: number, recorded: Offsets): void {
  const header = Buffer.from(new Float64Array([memoryBytes, recorded.BYTES_PER_ELEMENT]).buffer);
  writeFileSync(file, Buffer.concat([header, Buffer.from(recorded.buffer, recorded.byteOffset, recorded.byteLength)]));
}

export function readRecording(file: string): { memoryBytes: number; recorded: Offsets } {
  const b = readFileSync(file);
  const at = HEADER_WORDS * 8;
  if (b.length < at) throw new Error(`${file}: no recording header`);
  const [memoryBytes, width] = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + at));
  const body = b.buffer.slice(b.byteOffset + at, b.byteOffset + b.length);
  if (width === 4) return { memoryBytes, recorded: new Int32Array(body) };
  if (width === 8) return { memoryBytes, recorded: new Float64Array(body) };
  throw new Error(`${file}: offsets of ${width} bytes, expected 4 or 8`);
}

interface Line extends Pick<TimedPasses, 'ops' | 'fingerprint'> {
  heap?: { build: string; align: number; configHash: string };
}

async function main(argv: readonly string[]): Promise<Line> {
  const [mode, file, preset, loopsText, recording] = argv;
  const loops = Number(loopsText);
  if (argv.length !== 5 || (mode !== 'heap' && mode !== 'oracle') || !isPresetName(preset) || !(Number.isInteger(loops) && loops >= 0)) {
    throw new Error(`usage: instructions-replay.ts heap|oracle TRACE PRESET LOOPS RECORDING, got ${argv.join(' ')}`);
  }
  const trace = await readTrace(file);
  const facts = replayFacts(trace);
  if (mode === 'heap') {
    const heap = createHeap({ preset });
    const a = new HakmemAllocator(heap);
    const memoryBytes = heap.u8.length; // the memory of its blocks (HakmemAllocator.memory)
    const recorded = newOffsets(memoryBytes, facts.fingerprint.mallocs);
    footprintPass(a, trace, newReplayState(a, trace, facts), {}, recorded);
    writeRecording(recording, memoryBytes, recorded);
    const r = timedPasses(a, trace, newReplayState(a, trace, facts), loops, countedWarmUp(trace));
    return { ops: r.ops, fingerprint: r.fingerprint, heap: { build: heap.config.build, align: heap.config.align, configHash: heap.configHash } };
  }
  const { memoryBytes, recorded } = readRecording(recording);
  if (recorded.length !== facts.fingerprint.mallocs) {
    throw new Error(`${recording} holds ${recorded.length} blocks, the trace makes ${facts.fingerprint.mallocs} a pass`);
  }
  const oracle = new OffsetOracle(recorded, memoryBytes);
  footprintPass(oracle, trace, newReplayState(oracle, trace, facts), {});
  const r = timedPasses(oracle, trace, newReplayState(oracle, trace, facts), loops, countedWarmUp(trace));
  return { ops: r.ops, fingerprint: r.fingerprint };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (line) => process.stdout.write(JSON.stringify(line) + '\n'),
    (e: unknown) => {
      process.stderr.write(`instructions-replay: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
