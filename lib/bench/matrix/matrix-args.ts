/**
 * The matrix command line (`npm run matrix -- [options]`), parsed and checked
 * into MatrixOptions; mistakes become a UsageError (exit 2).
 */
import { parseArgs } from 'node:util';
import { HEADER_FREE_PRESETS, PRESET_NAMES, isPresetName, presetAlign } from '../../alloc/presets';
import { HEAP_ALIGNMENTS, type HeapAlignment } from '../../alloc/size-classes';
import { ALLOCATORS, isAllocatorName } from '../adapters/allocators';
import { UsageError } from '../cli-args';
import { PROFILES, type AllocatorSpec, type MatrixOptions, type ProfileName } from './matrix';

export const MATRIX_USAGE = `usage: npm run matrix -- [options]

Runs allocators x (fixed 128/256/512/1024, random-mixed 16..1024) x repetitions,
each repetition a fresh process; rows are appended to OUT.csv as they finish, and
the same command resumes an interrupted run.

options:
  --profile NAME      quick (${PROFILES.quick.cycles} cycles, ${PROFILES.quick.reps} reps) or full (${PROFILES.full.cycles} cycles, ${PROFILES.full.reps} reps); default quick
  --out PATH          result set, written as PATH.csv and PATH.json (default data/PROFILE)
  --allocators LIST   comma-separated, default all: ${ALLOCATORS.join(',')};
                      hakmem:PRESET picks a preset (${PRESET_NAMES.join(', ')}),
                      hakmem:PRESET:alignN a block alignment N = 1, 8 or 16 (8 and 16:
                      presets ${HEADER_FREE_PRESETS.join(', ')}), e.g. hakmem:current:align16
  --reps N            repetitions per cell (default: the profile's)
  --cycles N          cycles per run (default: the profile's)
  --build MODE        hakmem build: release (default) or debug
  --threads LIST      thread counts, e.g. 1,2 (default 1); runs with more than one thread
                      skip v8 and thing, which have no heap threads can share
  --help              this text
`;

export type MatrixCommand = MatrixOptions | { help: true };

export function parseMatrixArgs(argv: readonly string[]): MatrixCommand {
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
  if (profile !== 'quick' && profile !== 'full') throw new UsageError(`unknown profile '${profile}' (expected quick or full)`);
  const build = o.build ?? 'release';
  if (build !== 'release' && build !== 'debug') throw new UsageError(`unknown build '${build}' (expected release or debug)`);
  const out = (o.out ?? `data/${profile}`).replace(/\.(csv|json)$/, '');
  if (out === '') throw new UsageError('--out needs a path');
  return {
    profile: profile as ProfileName,
    out,
    allocators: parseAllocatorSpecs(o.allocators ?? ALLOCATORS.join(',')),
    reps: o.reps === undefined ? PROFILES[profile].reps : positive('--reps', o.reps),
    cycles: o.cycles === undefined ? PROFILES[profile].cycles : positive('--cycles', o.cycles),
    build,
    threads: parseThreadList(o.threads ?? '1'),
  };
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
    const [name, preset, alignText, ...extra] = item.split(':');
    if (!isAllocatorName(name)) {
      throw new UsageError(`unknown allocator '${name}' in --allocators (expected ${ALLOCATORS.join(', ')})`);
    }
    if (extra.length > 0 || (preset !== undefined && name !== 'hakmem')) {
      throw new UsageError(`'${item}': only hakmem takes a preset and an alignment, as hakmem:PRESET or hakmem:PRESET:alignN`);
    }
    if (preset !== undefined && !isPresetName(preset)) {
      throw new UsageError(`unknown preset '${preset}' in --allocators (expected ${PRESET_NAMES.join(', ')})`);
    }
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
