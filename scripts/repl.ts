/**
 * npm run repl: a TypeScript REPL with the allocator, the benchmarks and the report helpers loaded
 * (everything lib/lab.ts exports is in scope). `.lab` prints the one-screen help again.
 */
import path from 'node:path';
import { start } from 'node:repl';
import { create, createRepl } from 'ts-node';
import * as lab from '../lib/lab';

const HELP = `hakmem-ts REPL: TypeScript, with lib/lab.ts in scope. Try:

  const heap = createHeap({ fastStats: true })       // also: preset, shared, bytes, build: "debug"
  const p = heap.malloc(100); heap.u8[p] = 1; heap.free(p)
  heap.stats().routes                                 // free routes: header_fast (counted with fastStats), ss_hit, ...
  heap.occupancy().filter(c => c.state === "active")  // the heap map
  PRESET_NAMES                                        // phase6-2 ... current
  await benchInFreshProcess(["fixed", 2e6, 400, 1, "--size", 128, "--allocator", "system"])
  await measure([{ argv: ["random-mixed", 2e6, 400, 1] }, { argv: ["random-mixed", 2e6, 400, 1, "--allocator", "system"] }], 3)
  await larsonThreads({}, { seconds: 1, generations: Infinity, min: 8, max: 1000, chunks: 5000, rounds: 100, seed: 4141, threads: 2 })
  table(rows)                                         // an arquero table (HTML in a notebook)

.lab shows this again; .help lists the REPL's commands; .exit leaves.
`;

const tsRepl = createRepl();
tsRepl.setService(
  create({ ...tsRepl.evalAwarePartialHost, transpileOnly: true, experimentalReplAwait: true, project: path.join(__dirname, '..', 'tsconfig.json') }),
);
process.stdout.write(HELP + '\n');
const server = start({ prompt: 'hakmem> ', eval: tsRepl.nodeEval, ignoreUndefined: true });
Object.assign(server.context, lab);
server.defineCommand('lab', {
  help: 'Show the hakmem-ts help',
  action() {
    process.stdout.write(HELP);
    this.displayPrompt();
  },
});
