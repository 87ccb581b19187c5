/**
 * The binary form (scripts/native/trace-format.h), parsed from bytes as they stream in: the magic, a
 * u32 comment byte count, the comments, then 24-byte little-endian records to the end.
 */
import { TraceBuilder } from './trace-builder';
import { TraceError } from './trace-error';
import { BINARY_MAGIC, BINARY_RECORD_BYTES, type Trace } from './trace';

const HEADER_BYTES = BINARY_MAGIC.length + 4;
const TWO_32 = 2 ** 32;
/** The high u32 of a u64 above which it exceeds 2^53 - 1. */
const MAX_SAFE_HIGH = 2 ** 21 - 1;

export class BinaryTraceParser {
  private readonly builder = new TraceBuilder();
  private pending: Buffer = Buffer.alloc(0);
  private commentBytes = -1;
  private record = 0;

  constructor(private readonly file: string) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.commentBytes < 0) {
      if (buf.length < HEADER_BYTES) {
        this.pending = Buffer.from(buf);
        return;
      }
      if (buf.toString('latin1', 0, BINARY_MAGIC.length) !== BINARY_MAGIC) {
        throw new TraceError(this.file, '', `not a binary trace: it does not start with ${BINARY_MAGIC}`);
      }
      const n = buf.readUInt32LE(BINARY_MAGIC.length);
      if (buf.length < HEADER_BYTES + n) {
        this.pending = Buffer.from(buf);
        return;
      }
      this.commentBytes = n;
      if (n > 0) this.builder.comments.push(...buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + n).split('\n'));
      buf = buf.subarray(HEADER_BYTES + n);
    }
    const whole = buf.length - (buf.length % BINARY_RECORD_BYTES);
    for (let off = 0; off < whole; off += BINARY_RECORD_BYTES) this.parseRecord(buf, off);
    this.pending = Buffer.from(buf.subarray(whole));
  }

  end(): Trace {
    if (this.commentBytes < 0) throw new TraceError(this.file, '', 'truncated binary trace: the header is incomplete');
    if (this.pending.length > 0) {
      throw new TraceError(
        this.file,
        `record ${this.record}`,
        `truncated binary trace: a partial record of ${this.pending.length} of ${BINARY_RECORD_BYTES} bytes at the end`,
      );
    }
    return this.builder.finish();
  }

  private parseRecord(buf: Buffer, off: number): void {
    const op = buf[off];
    const reserved = buf[off + 1];
    const thread = buf.readUInt16LE(off + 2);
    const id = buf.readUInt32LE(off + 4);
    const size = this.u64(buf, off + 8, 'SIZE');
    const aux = this.u64(buf, off + 16, 'N/ALIGN');
    if (reserved !== 0) this.fail(`reserved byte is ${reserved}, not 0`);
    const problem = this.builder.add(op, id, size, aux, thread);
    if (problem !== null) this.fail(problem);
    this.record++;
  }

  private u64(buf: Buffer, off: number, field: string): number {
    const high = buf.readUInt32LE(off + 4);
    if (high > MAX_SAFE_HIGH) this.fail(`${field} is larger than 2^53 - 1`);
    return high * TWO_32 + buf.readUInt32LE(off);
  }

  private fail(problem: string): never {
    throw new TraceError(this.file, `record ${this.record}`, problem);
  }
}
