/**
 * writeTrace: a trace to a file, in the form its name asks for: `*.hktrace` or `*.hktrace.gz`
 * binary, anything else text; gzipped when the name ends in `.gz`. Written to a temporary file
 * beside it and renamed, so a failed write leaves nothing half-written.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TraceError } from './trace-error';
import {
  BINARY_MAGIC,
  BINARY_RECORD_BYTES,
  OP_ALIGNED,
  OP_CALLOC,
  OP_FREE,
  OP_LETTERS,
  TEXT_VERSION_LINE,
  type Trace,
} from './trace';

/** Ops per chunk handed to the stream. */
const BATCH = 16_384;
const TWO_32 = 2 ** 32;

export type TraceForm = 'text' | 'binary';

/** The form and compression a file name asks for. */
export function formOf(file: string): { form: TraceForm; gzip: boolean } {
  const gzip = file.endsWith('.gz');
  const base = gzip ? file.slice(0, -3) : file;
  return { form: base.endsWith('.hktrace') ? 'binary' : 'text', gzip };
}

export async function writeTrace(trace: Trace, file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat?.isDirectory()) throw new TraceError(file, '', `cannot write: the folder ${dir} does not exist`);
  const bad = trace.comments.find((c) => /[\r\n]/.test(c));
  if (bad !== undefined) throw new TraceError(file, '', `cannot write: a comment holds a line break: ${JSON.stringify(bad)}`);

  const { form, gzip } = formOf(file);
  const chunks = form === 'binary' ? binaryChunks(trace) : textChunks(trace);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const stages: Writable[] = gzip ? [createGzip(), createWriteStream(tmp)] : [createWriteStream(tmp)];
  try {
    await pipeline(Readable.from(chunks), ...(stages as [Writable]));
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw new TraceError(file, '', `cannot write: ${(e as Error).message}`);
  }
}

function* textChunks(t: Trace): Generator<string> {
  yield [TEXT_VERSION_LINE, ...t.comments.map((c) => `# ${c}`)].join('\n') + '\n';
  for (let from = 0; from < t.length; from += BATCH) {
    const to = Math.min(t.length, from + BATCH);
    let s = '';
    for (let i = from; i < to; i++) {
      const tag = t.thread[i] === 0 ? '' : `@${t.thread[i]} `;
      const k = t.kind[i];
      const op = OP_LETTERS[k];
      if (k === OP_FREE) s += `${tag}f ${t.id[i]}\n`;
      else if (k === OP_CALLOC || k === OP_ALIGNED) s += `${tag}${op} ${t.id[i]} ${t.aux[i]} ${t.size[i]}\n`;
      else s += `${tag}${op} ${t.id[i]} ${t.size[i]}\n`;
    }
    yield s;
  }
}

function* binaryChunks(t: Trace): Generator<Buffer> {
  const comments = Buffer.from(t.comments.join('\n'), 'utf8');
  const header = Buffer.alloc(BINARY_MAGIC.length + 4);
  header.write(BINARY_MAGIC, 0, 'latin1');
  header.writeUInt32LE(comments.length, BINARY_MAGIC.length);
  yield Buffer.concat([header, comments]);
  for (let from = 0; from < t.length; from += BATCH) {
    const to = Math.min(t.length, from + BATCH);
    const buf = Buffer.alloc((to - from) * BINARY_RECORD_BYTES);
    for (let i = from, off = 0; i < to; i++, off += BINARY_RECORD_BYTES) {
      buf[off] = t.kind[i];
      buf.writeUInt16LE(t.thread[i], off + 2);
      buf.writeUInt32LE(t.id[i], off + 4);
      writeU64(buf, off + 8, t.size[i]);
      writeU64(buf, off + 16, t.aux[i]);
    }
    yield buf;
  }
}

function writeU64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n % TWO_32, off);
  buf.writeUInt32LE(Math.floor(n / TWO_32), off + 4);
}
