/**
 * Facts about a trace replay that depend only on the trace (lib/bench/workloads/WORKLOADS.md
 * "replay"), computed by walking it as bookkeeping, before anything is timed: the fingerprint every
 * replayer must reproduce, the peak live bytes, the largest ID (the replayers' ID -> pointer arrays
 * are sized by it). The walk also rejects a trace no replayer could run (an ID allocated twice, an
 * r or f of an ID that holds no block), as lib/trace's reader does for files.
 */
import { OP_ALIGNED, OP_FREE, OP_REALLOC, OP_LETTERS, requestBytes, type Trace } from '../../trace/trace';
import type { Fingerprint } from './random-mixed';

export interface ReplayFacts {
  /** Over one pass of the trace. */
  fingerprint: Fingerprint;
  /** The largest sum of requested bytes live at once within one pass. */
  peakLiveBytes: number;
  /** The most blocks live at once within one pass. */
  peakLiveBlocks: number;
  /** Live bytes and blocks after the trace's last op (freed by the replayer at the pass end). */
  endLiveBytes: number;
  endLiveBlocks: number;
  /** The largest ID the trace names (0 for an empty trace). */
  maxId: number;
  /** How many thread tags the trace has (replayed serialized, in recorded order, on one thread). */
  recordedThreads: number;
}

/** A trace no replayer can run as written: what is wrong and at which op. */
export class ReplayError extends Error {
  constructor(
    readonly op: number,
    readonly blockId: number,
    message: string,
  ) {
    super(`op ${op} (ID ${blockId}): ${message}`);
  }
}

/**
 * The fingerprint step of one allocation op: hash = (hash * 31 + kind) * 31 + (bytes mod 2^32).
 * `bytes >>> 0` is bytes mod 2^32 for a non-negative integer, without `%` on a double (a call to fmod).
 */
export function fingerprintStep(hash: number, kind: number, bytes: number): number {
  return (Math.imul((Math.imul(hash, 31) + kind) | 0, 31) + (bytes >>> 0)) | 0;
}

export function replayFacts(t: Trace): ReplayFacts {
  let maxId = 0;
  for (let i = 0; i < t.length; i++) if (t.id[i] > maxId) maxId = t.id[i];
  const live = new Float64Array(maxId + 1).fill(-1); // bytes per live ID; -1 = no block
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = 0;
  let liveBytes = 0;
  let liveBlocks = 0;
  let peakLiveBytes = 0;
  let peakLiveBlocks = 0;
  const tags = new Uint8Array(1 << 16);
  let recordedThreads = 0;
  for (let i = 0; i < t.length; i++) {
    const id = t.id[i];
    const k = t.kind[i];
    if (tags[t.thread[i]] === 0) {
      tags[t.thread[i]] = 1;
      recordedThreads++;
    }
    if (k === OP_FREE) {
      if (live[id] < 0) throw new ReplayError(i, id, 'f of an ID that holds no block');
      liveBytes -= live[id];
      live[id] = -1;
      liveBlocks--;
      frees++;
      continue;
    }
    const n = requestBytes(t, i);
    if (k === OP_REALLOC) {
      if (live[id] < 0) throw new ReplayError(i, id, 'r of an ID that holds no block');
      liveBytes -= live[id];
      liveBlocks--;
    } else if (live[id] >= 0) {
      throw new ReplayError(i, id, `${OP_LETTERS[k]} of an ID that already holds a block (no f since its allocation)`);
    }
    if (k === OP_ALIGNED) {
      const align = t.aux[i];
      if (!(align >= 1 && Number.isInteger(Math.log2(align)))) {
        throw new ReplayError(i, id, `alignment ${align} is not a power of two`);
      }
    }
    live[id] = n;
    liveBytes += n;
    liveBlocks++;
    if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
    if (liveBlocks > peakLiveBlocks) peakLiveBlocks = liveBlocks;
    mallocs++;
    bytes += n;
    hash = fingerprintStep(hash, k, n);
  }
  return {
    fingerprint: { mallocs, frees, bytes, hash: hash >>> 0 },
    peakLiveBytes,
    peakLiveBlocks,
    endLiveBytes: liveBytes,
    endLiveBlocks: liveBlocks,
    maxId,
    recordedThreads,
  };
}
