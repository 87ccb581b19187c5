/**
 * readTrace: a trace file in either form, gzipped or not, told apart by content: gzip's magic
 * 1f 8b, then (after unzipping) the binary magic HKTRACE1, else text.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BinaryTraceParser } from './binary-parser';
import { TextTraceParser } from './text-parser';
import { TraceError } from './trace-error';
import { BINARY_MAGIC, type Trace } from './trace';

export { parseTraceText } from './text-parser';

const CHUNK_BYTES = 1 << 20;

export async function readTrace(file: string): Promise<Trace> {
  const gzipped = await startsWithGzipMagic(file);
  const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  const stream: Readable = gzipped ? raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
  let parser: TextTraceParser | BinaryTraceParser | null = null;
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (parser) {
        parser.push(chunk);
        continue;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < BINARY_MAGIC.length) continue;
      parser = chooseParser(file, head);
      parser.push(head);
    }
  } catch (e) {
    raw.destroy();
    if (e instanceof TraceError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gzipped && err.code === 'Z_BUF_ERROR') throw new TraceError(file, '', 'truncated gzip data (unexpected end of file)');
    if (gzipped && err.code?.startsWith('Z_')) throw new TraceError(file, '', `not valid gzip data: ${err.message}`);
    throw new TraceError(file, '', err.message);
  }
  if (!parser) {
    // Shorter than the binary magic: text (or an empty file, which the text parser rejects).
    parser = new TextTraceParser(file);
    parser.push(head);
  }
  return parser.end();
}

function chooseParser(file: string, head: Buffer): TextTraceParser | BinaryTraceParser {
  return head.length >= BINARY_MAGIC.length && head.toString('latin1', 0, BINARY_MAGIC.length) === BINARY_MAGIC
    ? new BinaryTraceParser(file)
    : new TextTraceParser(file);
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TraceError(file, '', err.code === 'ENOENT' ? 'no such file' : err.message);
  }
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TraceError(file, '', err.code === 'EISDIR' ? 'is a folder, not a file' : err.message);
  } finally {
    await handle.close();
  }
}
