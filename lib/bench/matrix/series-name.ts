/** How tables, plots and comparisons name an allocator configuration. */
import { isPresetName, presetAlign, type PresetName } from '../../alloc/presets';

/**
 * The name a result goes by in tables and plots: `hakmem:PRESET` (with `:alignN` when the block
 * alignment is not the preset's own, and `/debug`), else the allocator.
 */
export function seriesName(allocator: string, preset: string | null, build: string | null, align: number | string | null = null): string {
  if (allocator !== 'hakmem') return allocator;
  const name = isPresetName(preset || 'current') ? ((preset || 'current') as PresetName) : null;
  const alignN = align === null || align === '' ? null : Number(align);
  const alignLabel = name !== null && alignN !== null && alignN !== presetAlign(name) ? `:align${alignN}` : '';
  return `hakmem:${preset || 'current'}${alignLabel}${build === 'debug' ? '/debug' : ''}`;
}
