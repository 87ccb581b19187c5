/**
 * A text input the project generates instead of shipping (the bundled sed trace reads it): lines of
 * allocator words, a third of them tagged `word-NUMBER`, drawn with the project's xorshift32. The same
 * seed and line count give the same bytes on every machine.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Xorshift32 } from '../bench/workloads/rng';

const WORDS = ['alloc', 'free', 'slab', 'arena', 'page', 'class', 'cache', 'remote', 'tiny', 'mid', 'large', 'span', 'heap', 'block', 'header'];

export function generatedText(lines: number, seed: number): string {
  const rng = new Xorshift32(seed);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const words: string[] = [];
    for (let n = 3 + (rng.draw() % 10); n > 0; n--) {
      const word = WORDS[rng.draw() % WORDS.length];
      words.push(rng.draw() % 3 === 0 ? `${word}-${rng.draw() % 1000}` : word);
    }
    out.push(words.join(' '));
  }
  return `${out.join('\n')}\n`;
}

/** Writes generatedText(lines, seed) to `file` (its folder made), unless it already holds exactly that. */
export async function writeGeneratedText(file: string, lines: number, seed: number): Promise<void> {
  const text = generatedText(lines, seed);
  if ((await fs.readFile(file, 'utf8').catch(() => null)) === text) return;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}
