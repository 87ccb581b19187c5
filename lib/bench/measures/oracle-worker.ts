/**
 * The oracle's passes in a worker of their own (oracle-run.ts): the allocator's footprint pass (blocks
 * written whole) and warm-up passes, then a timed pass per request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OP_FREE, requestBytes, type Trace } from '../../trace/trace';
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import { ObjectOracle, OffsetOracle } from '../adapters/oracle';
import { fingerprintOf, footprintPass, newReplayState, timedPass, warmUpPasses } from '../workloads/replay';
import type { OracleJob, OracleReply, OracleRequest } from './oracle-run';

const job = workerData as OracleJob;
const trace: Trace = { ...job.trace, comments: [] };
const oracle: ReplayAllocator<unknown> =
  job.shape.pointers === 'offsets'
    ? new OffsetOracle(job.shape.recorded, job.shape.memoryBytes)
    : new ObjectOracle(allocationSizes(trace));
const st = newReplayState(oracle, trace, job.facts);
const port = parentPort!;
const answer = (reply: OracleReply) => port.postMessage(reply);
// The footprint pass too: V8 compiles the loop on the passes it has run, so it runs the allocator's.
footprintPass(oracle, trace, st, {});
warmUpPasses(oracle, trace, st);
port.on('message', (request: OracleRequest) => {
  if (request === 'pass') return answer({ seconds: timedPass(oracle, trace, st) });
  answer({ fingerprint: fingerprintOf(st) });
  port.close();
});
answer({ ready: true });

/** The bytes each allocation op of a pass makes, in order (at least 1, as the replay makes them). */
function allocationSizes(t: Trace): Float64Array {
  const sizes = new Float64Array(job.facts.fingerprint.mallocs);
  let k = 0;
  for (let i = 0; i < t.length; i++) if (t.kind[i] !== OP_FREE) sizes[k++] = Math.max(1, requestBytes(t, i));
  return sizes;
}
