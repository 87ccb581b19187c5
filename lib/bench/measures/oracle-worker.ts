/** The oracle's passes in a worker of their own (oracle-run.ts): it posts the timed passes' seconds and fingerprint. */
import { parentPort, workerData } from 'node:worker_threads';
import { OP_FREE, requestBytes, type Trace } from '../../trace/trace';
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import { ObjectOracle, OffsetOracle } from '../adapters/oracle';
import { newReplayState, timedPasses } from '../workloads/replay';
import type { OracleJob } from './oracle-run';

const job = workerData as OracleJob;
const trace: Trace = { ...job.trace, comments: [] };
const oracle: ReplayAllocator<unknown> =
  job.shape.pointers === 'offsets'
    ? new OffsetOracle(job.shape.recorded, job.shape.memoryBytes)
    : new ObjectOracle(allocationSizes(trace));
parentPort!.postMessage(timedPasses(oracle, trace, newReplayState(oracle, trace, job.facts), job.loops));

/** The bytes each allocation op of a pass makes, in order (at least 1, as the replay makes them). */
function allocationSizes(t: Trace): Float64Array {
  const sizes = new Float64Array(job.facts.fingerprint.mallocs);
  let k = 0;
  for (let i = 0; i < t.length; i++) if (t.kind[i] !== OP_FREE) sizes[k++] = Math.max(1, requestBytes(t, i));
  return sizes;
}
