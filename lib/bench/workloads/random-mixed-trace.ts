/**
 * random-mixed's requests as an allocation trace (lib/bench/workloads/WORKLOADS.md): the same RNG
 * draws as the loop, each slot a block ID. Its timeline (memory over time) is a replay of this
 * trace, so the tuned loop itself never samples anything.
 */
import { OP_FREE, OP_MALLOC, type Trace } from '../../trace/trace';
import { Xorshift32 } from './rng';

export function randomMixedTrace(cycles: number, ws: number, seed: number, min: number, max: number): Trace {
  const rng = new Xorshift32(seed);
  const kind = new Uint8Array(cycles);
  const id = new Uint32Array(cycles);
  const size = new Float64Array(cycles);
  const occupied = new Uint8Array(ws);
  const span = max - min + 1;
  for (let i = 0; i < cycles; i++) {
    const s = rng.draw() % ws;
    id[i] = s;
    if (occupied[s]) {
      kind[i] = OP_FREE;
      occupied[s] = 0;
    } else {
      kind[i] = OP_MALLOC;
      size[i] = min + (rng.draw() % span);
      occupied[s] = 1;
    }
  }
  return {
    length: cycles,
    kind,
    id,
    size,
    aux: new Float64Array(cycles),
    thread: new Uint16Array(cycles),
    comments: [`random-mixed ${cycles} ${ws} ${seed} --min ${min} --max ${max}`],
  };
}
