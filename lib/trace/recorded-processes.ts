/**
 * The recorder's raw output (scripts/native/trace-recorder.c) read back as processes: the shim
 * writes one binary segment per process image, PID.SEQ.hktrace, SEQ counting a process's images
 * from 0 (exec starts the next). A process's trace is its segments in order. exec drops the old
 * image's heap without a free, so where one image ends and the next begins the trace frees every
 * block still live (on thread 0): the next image starts from nothing live, as it did, and its IDs,
 * counted from 0 again, never name a live block.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readTrace } from './read';
import { TraceBuilder } from './trace-builder';
import { OP_FREE, OP_REALLOC, type Trace } from './trace';

export interface ProcessImage {
  /** The program file the image ran (/proc/self/exe), '' when unknown. */
  exe: string;
  /** Its command line. */
  argv: string;
  /** The index of its first op in the process's trace (after the frees that end the image before). */
  firstOp: number;
}

export interface RecordedProcess {
  pid: number;
  /** The process's images in the order they ran. */
  images: ProcessImage[];
  /** Its ops, no comments. */
  trace: Trace;
}

/** A process whose segments cannot be read (e.g. still running, or killed while writing): why. */
export interface UnreadableProcess {
  pid: number;
  error: string;
}

const SEGMENT = /^(\d+)\.(\d+)\.hktrace$/;

/** The processes recorded in `dir`, by PID. */
export async function readRecordedProcesses(dir: string): Promise<{ processes: RecordedProcess[]; unreadable: UnreadableProcess[] }> {
  const segments = new Map<number, { seq: number; file: string }[]>();
  for (const name of await fs.readdir(dir)) {
    const m = SEGMENT.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (!segments.has(pid)) segments.set(pid, []);
    segments.get(pid)!.push({ seq: Number(m[2]), file: path.join(dir, name) });
  }
  const processes: RecordedProcess[] = [];
  const unreadable: UnreadableProcess[] = [];
  for (const [pid, list] of [...segments].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a.seq - b.seq);
    try {
      processes.push({ pid, ...(await joinImages(list.map((s) => s.file))) });
    } catch (e) {
      unreadable.push({ pid, error: (e as Error).message });
    }
  }
  return { processes, unreadable };
}

/** One process's segments joined in order. */
async function joinImages(files: readonly string[]): Promise<Pick<RecordedProcess, 'images' | 'trace'>> {
  const builder = new TraceBuilder();
  const live = new Set<number>();
  const images: ProcessImage[] = [];
  const add = (kind: number, id: number, size: number, aux: number, thread: number, file: string, op: number) => {
    const problem = builder.add(kind, id, size, aux, thread);
    if (problem) throw new Error(`${file}: record ${op}: ${problem} (joining the process's images)`);
  };
  for (const file of files) {
    const t = await readTrace(file);
    for (const id of [...live].sort((a, b) => a - b)) add(OP_FREE, id, 0, 0, 0, file, 0);
    live.clear();
    const comment = (key: string) => t.comments.find((c) => c.startsWith(`${key}: `))?.slice(key.length + 2) ?? '';
    images.push({ exe: comment('image'), argv: comment('argv'), firstOp: builder.length });
    for (let i = 0; i < t.length; i++) {
      const kind = t.kind[i];
      if (kind === OP_FREE) live.delete(t.id[i]);
      else if (kind !== OP_REALLOC) live.add(t.id[i]);
      add(kind, t.id[i], t.size[i], t.aux[i], t.thread[i], file, i);
    }
  }
  return { images, trace: builder.finish() };
}
