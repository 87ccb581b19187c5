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
  /** Over one pass of the trace; `hash` is the sum of the per-thread hashes (sumThreadHashes). */
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
  /** How many thread tags the trace has. */
  recordedThreads: number;
}

/** The replayer did the trace's requests, as the trace says: else its figures measure something else. */
export function checkReplayFingerprint(who: string, got: Fingerprint, facts: ReplayFacts): void {
  const want = facts.fingerprint;
  if (got?.mallocs !== want.mallocs || got.frees !== want.frees || got.bytes !== want.bytes || got.hash !== want.hash) {
    throw new Error(`${who}: the replay's fingerprint ${JSON.stringify(got)} differs from the trace's ${JSON.stringify(want)}`);
  }
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

/**
 * A trace's hash: each recorded thread's allocation ops hashed in that thread's order (fingerprintStep
 * from 0), the threads' hashes summed mod 2^32. The sum does not depend on how the threads interleave,
 * so a serialized and a threaded replay of one trace reproduce it alike; a single-threaded trace's hash
 * is its ops' hash in order.
 */
export function sumThreadHashes(hashes: Int32Array): number {
  let sum = 0;
  for (let k = 0; k < hashes.length; k++) sum = (sum + hashes[k]) | 0;
  return sum >>> 0;
}

/** Names an op of a multi-threaded trace with its thread, so a failure shows which thread's op it was. */
function onThread(t: Trace, i: number, threads: number, message: string): string {
  return threads > 1 || t.thread[i] !== 0 ? `${message} (on thread ${t.thread[i]})` : message;
}

export function replayFacts(t: Trace): ReplayFacts {
  let maxId = 0;
  for (let i = 0; i < t.length; i++) if (t.id[i] > maxId) maxId = t.id[i];
  const live = new Float64Array(maxId + 1).fill(-1); // bytes per live ID; -1 = no block
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  const hashes = new Int32Array(1 << 16); // per thread tag
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
      if (live[id] < 0) throw new ReplayError(i, id, onThread(t, i, recordedThreads, 'f of an ID that holds no block'));
      liveBytes -= live[id];
      live[id] = -1;
      liveBlocks--;
      frees++;
      continue;
    }
    const n = requestBytes(t, i);
    if (k === OP_REALLOC) {
      if (live[id] < 0) throw new ReplayError(i, id, onThread(t, i, recordedThreads, 'r of an ID that holds no block'));
      liveBytes -= live[id];
      liveBlocks--;
    } else if (live[id] >= 0) {
      throw new ReplayError(i, id, onThread(t, i, recordedThreads, `${OP_LETTERS[k]} of an ID that already holds a block (no f since its allocation)`));
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
    hashes[t.thread[i]] = fingerprintStep(hashes[t.thread[i]], k, n);
  }
  return {
    fingerprint: { mallocs, frees, bytes, hash: sumThreadHashes(hashes) },
    peakLiveBytes,
    peakLiveBlocks,
    endLiveBytes: liveBytes,
    endLiveBlocks: liveBlocks,
    maxId,
    recordedThreads,
  };
}
