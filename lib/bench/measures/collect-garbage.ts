/**
 * A full garbage collection, where the engine lets a script ask for one. The replays run it before
 * their timed passes: V8 starts marking for the warm-up's garbage and for the large buffers a replay
 * maps (external memory), and without it that marking ran inside the timed passes (with V8 on one
 * thread, a heap's pass of gcc-cc1 took 52 ns an op and the next 27, in the same pattern run after
 * run). Node: V8's `gc`, exposed at run time; where an engine gives no such function, it collects on
 * its own schedule.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
