/**
 * The matrix command line (`npm run matrix -- [options]`), parsed and checked
 * into MatrixOptions; mistakes become a UsageError (exit 2).
 */
import { parseArgs } from 'node:util';
import { HEADER_FREE_PRESETS, PRESET_NAMES, isPresetName, presetAlign, type PresetName } from '../../alloc/presets';
import { HEAP_ALIGNMENTS, type HeapAlignment } from '../../alloc/size-classes';
import { ALLOCATORS, isAllocatorName } from '../adapters/allocators';
import { UsageError } from '../cli-args';
import { ENGINES, RUNNING_NODE, isEngineName } from '../engines/engines';
import { defaultOut } from './locations';
import { FIXED_SIZES, MATRIX_BENCHES, MIXED_MAX, MIXED_MIN, PROFILES, type AllocatorSpec, type MatrixBench, type MatrixOptions, type ProfileName } from './matrix';
import { SHARD_INDEX_VARIABLES, parseShard } from './shards';
import { readManifest } from '../../trace/bundle';

const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export const MATRIX_USAGE = `usage: npm run matrix -- [options]
       npm run matrix -- merge OUT SHARD...

Runs allocators x (fixed 128/256/512/1024, random-mixed 16..1024, replay of each
bundled trace; cross-thread above 1 thread) x thread counts x engines x
repetitions, each repetition a fresh process; rows are appended to OUT.csv as they
finish, and the same command resumes an interrupted run.

options:
  --profile NAME      ${PROFILE_NAMES.map(profileLine).join(',\n                      ')}; default quick
  --out PATH          result set, written as PATH.csv and PATH.json (default results/PROFILE/matrix,
                      with --shard K/N results/PROFILE/shards/K-of-N);
                      results/ is git-ignored, data/ holds the committed reference sets
  --allocators LIST   comma-separated, default all (tiny: hakmem,system): ${ALLOCATORS.join(',')};
                      hakmem:PRESET picks a preset (${PRESET_NAMES.join(', ')}),
                      hakmem:PRESET:alignN a block alignment N = 1, 8 or 16 (8 and 16:
                      presets ${HEADER_FREE_PRESETS.join(', ')}), e.g. hakmem:current:align16
  --engines LIST      JS engines, e.g. node20,node22,node24,node26,bun (default ${RUNNING_NODE}, the node running
                      this); known: ${ENGINES.join(', ')}. Pinned engines (engines.json) are installed
                      into .cache/engines on first use; one that cannot be installed or run gives
                      skipped rows with the reason. Native allocators run under every engine, as each
                      cell's baseline
  --shard K/N         run the K-th of N slices of the plan (K from 1 to N): whole cells (bench x size
                      x threads x engine, every allocator of it), dealt round-robin, so each ratio
                      to system is measured on one machine; merge the N sets with 'merge'.
                      auto/N takes K from ${SHARD_INDEX_VARIABLES.map((v) => `${v.name} (${v.first}-based)`).join(' or ')}
  --benches LIST      any of fixed (${FIXED_SIZES.join('/')}), random-mixed (${MIXED_MIN}..${MIXED_MAX}),
                      cross-thread (${MIXED_MIN}..${MIXED_MAX}, above 1 thread), replay (1 thread; every
                      allocator but thing, see README); default all
  --traces LIST       replay: bundled traces (data/traces/manifest.json), default all (tiny: ${PROFILES.tiny.traces?.join(',')})
  --loops N           replay: timed passes over each trace (default: the profile's)
  --reps N            repetitions per cell (default: the profile's)
  --cycles N          cycles per run (default: the profile's)
  --build MODE        hakmem build: release (default) or debug
  --threads LIST      thread counts, e.g. 1,2 (default 1); runs with more than one thread
                      skip v8, thing and the wasm allocators, which have no heap threads can share, and add
                      cross-thread (that many workers in a ring, CYCLES blocks each)
  --help              this text

merge OUT SHARD...    joins the N shard sets of one plan (each SHARD a set's path or a folder of
                      them, e.g. results/quick/shards) into OUT.csv/OUT.json: refuses shards of
                      different commits, profiles or plans, missing or repeated shards or runs,
                      a cut-off CSV, and an OUT that already exists; keeps each shard's machine
                      in the provenance and prints each cell's ratios to system per machine

job runners (GNU parallel, Slurm, Kubernetes): see docs/distributed.md
`;

export interface MergeCommand {
  merge: { out: string; sources: string[] };
}

export type MatrixCommand = MatrixOptions | MergeCommand | { help: true };

export function parseMatrixArgs(argv: readonly string[], env: Record<string, string | undefined> = process.env): MatrixCommand {
  if (argv[0] === 'merge') return parseMergeArgs(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        profile: { type: 'string' },
        out: { type: 'string' },
        allocators: { type: 'string' },
        reps: { type: 'string' },
        cycles: { type: 'string' },
        build: { type: 'string' },
        threads: { type: 'string' },
        engines: { type: 'string' },
        benches: { type: 'string' },
        traces: { type: 'string' },
        loops: { type: 'string' },
        shard: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const o = parsed.values;
  if (o.help) return { help: true };
  const profile = o.profile ?? 'quick';
  if (!isProfileName(profile)) throw new UsageError(`unknown profile '${profile}' (expected ${PROFILE_NAMES.join(', ')})`);
  const build = o.build ?? 'release';
  if (build !== 'release' && build !== 'debug') throw new UsageError(`unknown build '${build}' (expected release or debug)`);
  const shard = o.shard === undefined ? null : parseShard(o.shard, env);
  const out = (o.out ?? defaultOut(profile, shard)).replace(/\.(csv|json)$/, '');
  if (out === '') throw new UsageError('--out needs a path');
  return {
    profile,
    out,
    allocators: parseAllocatorSpecs(o.allocators ?? PROFILES[profile].allocators ?? ALLOCATORS.join(',')),
    reps: o.reps === undefined ? PROFILES[profile].reps : positive('--reps', o.reps),
    cycles: o.cycles === undefined ? PROFILES[profile].cycles : positive('--cycles', o.cycles),
    build,
    threads: parseThreadList(o.threads ?? '1'),
    engines: parseEngineList(o.engines ?? RUNNING_NODE),
    benches: parseBenchList(o.benches ?? MATRIX_BENCHES.join(',')),
    traces: parseTraceList(o.traces ?? (PROFILES[profile].traces ?? bundledTraceNames()).join(',')),
    loops: o.loops === undefined ? PROFILES[profile].loops : positive('--loops', o.loops),
    shard,
    suite: PROFILES[profile].suite ?? null,
  };
}

function profileLine(p: ProfileName): string {
  const { cycles, reps, loops, allocators, traces, suite } = PROFILES[p];
  if (suite) {
    const what = suite === 'tiny' ? 'the suite workloads at tiny arguments' : 'the suite workloads (mimalloc-bench stress tests)';
    return `${p} (${what}, ${reps} reps${allocators ? `, ${allocators}` : ', every allocator'})`;
  }
  return `${p} (${cycles} cycles, ${reps} reps, ${loops} loops${allocators ? `, ${allocators}` : ''}${traces ? `, trace ${traces.join(',')}` : ''})`;
}

function bundledTraceNames(): string[] {
  return readManifest().map((t) => t.name);
}

/** Names of bundled traces; unknown and repeated names are errors. */
function parseTraceList(list: string): string[] {
  const known = bundledTraceNames();
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.find((n) => !known.includes(n));
  if (unknown !== undefined) throw new UsageError(`unknown trace '${unknown}' in --traces (bundled: ${known.join(', ')})`);
  if (new Set(names).size !== names.length) throw new UsageError(`--traces: '${list}' names a trace twice`);
  return names;
}

function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as string[]).includes(name);
}

function parseMergeArgs(argv: readonly string[]): MergeCommand {
  const [out, ...sources] = argv;
  if (out === undefined || sources.length === 0) {
    throw new UsageError('merge needs OUT and at least one shard set or folder: merge OUT SHARD...');
  }
  const flag = argv.find((a) => a.startsWith('-'));
  if (flag !== undefined) throw new UsageError(`merge takes no options, got '${flag}'`);
  return { merge: { out: out.replace(/\.(csv|json)$/, ''), sources: [...sources] } };
}

function parseBenchList(list: string): MatrixBench[] {
  const names = list.split(',').map((s) => s.trim());
  const bad = names.find((n) => !(MATRIX_BENCHES as readonly string[]).includes(n));
  if (bad !== undefined) throw new UsageError(`unknown bench '${bad}' in --benches (expected ${MATRIX_BENCHES.join(', ')})`);
  return [...new Set(names)] as MatrixBench[];
}

/** `node20,bun` -> names; unknown and repeated names are errors. */
function parseEngineList(list: string): string[] {
  const names = list.split(',').map((s) => s.trim());
  const unknown = names.find((n) => !isEngineName(n));
  if (unknown !== undefined) throw new UsageError(`unknown engine '${unknown}' in --engines (expected ${ENGINES.join(', ')})`);
  if (new Set(names).size !== names.length) throw new UsageError(`--engines: '${list}' names an engine twice`);
  return names;
}

/** `1,2` -> [1, 2]: distinct whole numbers from 1 to 64. */
function parseThreadList(list: string): number[] {
  const counts = list.split(',').map((s) => s.trim());
  const bad = counts.find((c) => !/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 64);
  if (bad !== undefined) throw new UsageError(`--threads: '${bad}' is not a thread count from 1 to 64 (expected a list like 1,2)`);
  const values = counts.map(Number);
  if (new Set(values).size !== values.length) throw new UsageError(`--threads: '${list}' names a thread count twice`);
  return values;
}

/** `hakmem,hakmem:phase7,hakmem:current:align16,system` -> specs; duplicates and unknown names are errors. */
export function parseAllocatorSpecs(list: string): AllocatorSpec[] {
  const specs: AllocatorSpec[] = [];
  const seen = new Set<string>();
  for (const item of list.split(',').map((s) => s.trim())) {
    const [name, presetText, alignText, ...extra] = item.split(':');
    if (!isAllocatorName(name)) {
      throw new UsageError(`unknown allocator '${name}' in --allocators (expected ${ALLOCATORS.join(', ')})`);
    }
    if (extra.length > 0 || (presetText !== undefined && name !== 'hakmem')) {
      throw new UsageError(`'${item}': only hakmem takes a preset and an alignment, as hakmem:PRESET or hakmem:PRESET:alignN`);
    }
    const preset = presetText === undefined ? undefined : presetNamed(presetText);
    const align = alignText === undefined ? null : parseAlign(item, alignText);
    if (align !== null && align !== 1 && !HEADER_FREE_PRESETS.includes(preset!)) {
      throw new UsageError(`'${item}': preset ${preset} keeps the 1-byte header, so only align1 (align8 and align16: presets ${HEADER_FREE_PRESETS.join(', ')})`);
    }
    if (align === 1 && preset !== undefined && presetAlign(preset) !== 1) {
      throw new UsageError(`'${item}': preset ${preset} is header-free: align8 or align16`);
    }
    const spec: AllocatorSpec = { allocator: name, preset: name === 'hakmem' ? (preset ?? 'current') : null, align };
    const key = `${spec.allocator}:${spec.preset}:${align ?? (spec.preset ? presetAlign(spec.preset) : '')}`;
    if (seen.has(key)) throw new UsageError(`'${item}' is listed twice in --allocators`);
    seen.add(key);
    specs.push(spec);
  }
  return specs;
}

/** A preset's name, checked (a function of its own, so the name's type follows without strict null checks, as in notebooks). */
function presetNamed(text: string): PresetName {
  if (!isPresetName(text)) throw new UsageError(`unknown preset '${text}' in --allocators (expected ${PRESET_NAMES.join(', ')})`);
  return text;
}

/** `align16` -> 16. */
function parseAlign(item: string, text: string): HeapAlignment {
  const n = Number(/^align(\d+)$/.exec(text)?.[1]);
  if (!(HEAP_ALIGNMENTS as readonly number[]).includes(n)) {
    throw new UsageError(`'${item}': '${text}' is not an alignment (expected align1, align8 or align16)`);
  }
  return n as HeapAlignment;
}

function positive(name: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${name} must be a whole number >= 1, got '${text}'`);
  }
  return Number(text);
}
