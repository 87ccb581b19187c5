/**
 * The C replayer reads the binary trace form only (scripts/native/trace-format.h). A trace in any
 * other form (text, gzipped) is written once in the binary form into .cache/traces, under the hash
 * of its file's content, and that copy is replayed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BINARY_MAGIC, type Trace } from '../../trace/trace';
import { writeTrace } from '../../trace/write';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEFAULT_CACHE_DIR = path.join(ROOT, '.cache', 'traces');

/** `file` itself when it is an uncompressed binary trace; else its cached binary copy, written from `trace`. */
export async function binaryTraceFile(file: string, trace: Trace, cacheDir = DEFAULT_CACHE_DIR): Promise<string> {
  if (await startsWithMagic(file)) return file;
  return cachedBinaryTrace(await contentHash(file), trace, cacheDir);
}

/** `trace` in its binary form under .cache/traces/KEY.hktrace, written unless already there. */
export async function cachedBinaryTrace(key: string, trace: Trace, cacheDir = DEFAULT_CACHE_DIR): Promise<string> {
  const target = path.join(cacheDir, `${key}.hktrace`);
  if (existsSync(target)) return target;
  await fs.mkdir(cacheDir, { recursive: true });
  await writeTrace(trace, target); // written aside and renamed: a reader never sees half a file
  return target;
}

async function startsWithMagic(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(BINARY_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.toString('latin1') === BINARY_MAGIC;
  } finally {
    await handle.close();
  }
}

async function contentHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
