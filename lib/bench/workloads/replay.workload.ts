/**
 * replay FILE [--loops N]: an allocation trace replayed (replay.ts, scripts/native/replay.c, run by
 * lib/bench/replay-runner.ts), with its footprint, oracle, timeline, latency and breakdown.
 */
import type { RunContext, ParseInput, ParsedArgs, Workload } from './workload';
import { UsageError, whole } from './workload-args';

/** replay FILE: an allocation trace (text or binary, gzipped or not), replayed `loops` times. */
export interface ReplayArgs {
  file: string;
  loops: number;
  /** A multi-threaded trace replayed in recorded order on one thread instead of on a thread per recorded thread. */
  serial?: boolean;
}

/** The C replayer's bound. */
const MAX_LOOPS = 1_000_000;

export const replayWorkload: Workload<ReplayArgs> = {
  name: 'replay',
  synopsis: 'FILE [--loops N]',
  description:
    'replays an allocation trace (text or binary .hktrace, gzipped\n' +
    'or not) N times (default 1), timed; first a footprint pass\n' +
    '(peak footprint, whole blocks written) and warm-up passes\n' +
    '(16 million ops, 2 to 200 passes).\n' +
    'JSON adds peakLiveBytes, peakFootprintBytes, utilization',
  args: [],
  options: ['loops', 'timeline', 'latency', 'breakdown', 'serial'],
  parse: parseReplay,
  label: (a) => `replay ${a.file}`,
  run: async ({ request, base }: RunContext) => {
    const { runReplay } = await import('../replay-runner');
    return runReplay(request as Parameters<typeof runReplay>[0], base);
  },
};

function parseReplay({ positionals: rest, options }: ParseInput): ParsedArgs<ReplayArgs> {
  if (rest.length !== 1) {
    throw new UsageError(`replay takes 1 argument (FILE), got ${rest.length}` + (rest.length ? `: ${rest.join(' ')}` : ''));
  }
  const loops = options.loops === undefined ? 1 : whole('--loops', options.loops as string, [1, MAX_LOOPS]);
  // serial only when given: the rows of every other replay keep the args they always had.
  return { args: { file: rest[0], loops, ...(options.serial ? { serial: true } : {}) }, threads: 1 };
}
