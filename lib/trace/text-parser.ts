/**
 * The text form (format v1, README.md here), parsed from bytes as they stream in: lines are scanned
 * in the chunk buffers and numbers read digit by digit, so no string is made per line (only for
 * comments and error messages).
 */
import { TraceBuilder } from './trace-builder';
import { TraceError } from './trace-error';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, TEXT_VERSION_LINE, type Trace } from './trace';

const NL = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const HASH = 0x23;
const AT = 0x40;

/** Per op letter: its kind and the names of its fields. */
const OPS: Record<number, { kind: number; fields: readonly string[] }> = {
  [0x6d]: { kind: OP_MALLOC, fields: ['ID', 'SIZE'] },
  [0x63]: { kind: OP_CALLOC, fields: ['ID', 'N', 'SIZE'] },
  [0x72]: { kind: OP_REALLOC, fields: ['ID', 'SIZE'] },
  [0x61]: { kind: OP_ALIGNED, fields: ['ID', 'ALIGN', 'SIZE'] },
  [0x66]: { kind: OP_FREE, fields: ['ID'] },
};

const MAX_FIELDS = 4; // one more than any op takes, to tell "too many"

export class TextTraceParser {
  private readonly builder = new TraceBuilder();
  private line = 0;
  private sawVersion = false;
  private rest: Buffer | null = null;
  private readonly tokenStart = new Int32Array(MAX_FIELDS);
  private readonly tokenEnd = new Int32Array(MAX_FIELDS);
  private readonly values = new Float64Array(MAX_FIELDS);

  constructor(private readonly file: string) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl !== -1; nl = buf.indexOf(NL, start)) {
      this.parseLine(buf, start, nl);
      start = nl + 1;
    }
    this.rest = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
  }

  end(): Trace {
    if (this.rest) this.parseLine(this.rest, 0, this.rest.length);
    this.rest = null;
    if (!this.sawVersion) throw new TraceError(this.file, '', `empty file: the first line must be '${TEXT_VERSION_LINE}'`);
    return this.builder.finish();
  }

  private parseLine(buf: Buffer, start: number, end: number): void {
    this.line++;
    if (end > start && buf[end - 1] === CR) end--;
    if (!this.sawVersion) {
      const text = buf.toString('utf8', start, end);
      if (text !== TEXT_VERSION_LINE) this.fail(`the first line must be '${TEXT_VERSION_LINE}'`, buf, start, end);
      this.sawVersion = true;
      return;
    }
    if (start === end) return; // blank lines are allowed and ignored
    if (buf[start] === HASH) {
      const from = start + 1 < end && buf[start + 1] === SPACE ? start + 2 : start + 1;
      this.builder.comments.push(buf.toString('utf8', from, end));
      return;
    }

    let p = start;
    let thread = 0;
    if (buf[p] === AT) {
      let q = p + 1;
      while (q < end && buf[q] !== SPACE && buf[q] !== TAB) q++;
      if (q === end) this.fail('a thread tag must be followed by an op', buf, start, end);
      thread = this.number(buf, p + 1, q, 'thread tag', start, end);
      p = q;
    }
    while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
    const letter = buf[p];
    const op = OPS[letter];
    if (op === undefined || (p + 1 < end && buf[p + 1] !== SPACE && buf[p + 1] !== TAB)) {
      const word = buf.toString('utf8', p, Math.min(end, wordEnd(buf, p, end)));
      this.fail(`unknown op '${word}' (expected m, c, r, a or f)`, buf, start, end);
    }
    p++;

    let count = 0;
    while (p < end) {
      while (p < end && (buf[p] === SPACE || buf[p] === TAB)) p++;
      if (p === end) break;
      const q = wordEnd(buf, p, end);
      if (count < MAX_FIELDS) {
        this.tokenStart[count] = p;
        this.tokenEnd[count] = q;
      }
      count++;
      p = q;
    }
    const name = String.fromCharCode(letter);
    if (count !== op.fields.length) {
      this.fail(`'${name}' takes ${op.fields.length} field(s) (${op.fields.join(' ')}), got ${count}`, buf, start, end);
    }
    for (let k = 0; k < count; k++) {
      this.values[k] = this.number(buf, this.tokenStart[k], this.tokenEnd[k], op.fields[k], start, end);
    }

    const v = this.values;
    let problem: string | null;
    switch (op.kind) {
      case OP_MALLOC:
      case OP_REALLOC:
        problem = this.builder.add(op.kind, v[0], v[1], 0, thread);
        break;
      case OP_CALLOC:
        problem = this.builder.add(op.kind, v[0], v[2], v[1], thread);
        break;
      case OP_ALIGNED:
        problem = this.builder.add(op.kind, v[0], v[2], v[1], thread);
        break;
      default:
        problem = this.builder.add(op.kind, v[0], 0, 0, thread);
    }
    if (problem !== null) this.fail(problem, buf, start, end);
  }

  /** The decimal integer in buf[from, to), or a TraceError naming the field. */
  private number(buf: Buffer, from: number, to: number, field: string, start: number, end: number): number {
    let n = 0;
    for (let i = from; i < to; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) {
        const word = buf.toString('utf8', from, to);
        const why = buf[from] === 0x2d && to > from + 1 ? 'is negative' : 'is not a non-negative integer';
        this.fail(`${field} ${why}: '${word}'`, buf, start, end);
      }
      n = n * 10 + d;
    }
    if (from === to) this.fail(`${field} is missing`, buf, start, end);
    if (n > Number.MAX_SAFE_INTEGER) this.fail(`${field} ${buf.toString('utf8', from, to)} is too large`, buf, start, end);
    return n;
  }

  private fail(problem: string, buf: Buffer, start: number, end: number): never {
    const text = buf.toString('utf8', start, Math.min(end, start + 80));
    throw new TraceError(this.file, `line ${this.line}`, `${problem} (in '${text}${end - start > 80 ? '...' : ''}')`);
  }
}

function wordEnd(buf: Buffer, p: number, end: number): number {
  while (p < end && buf[p] !== SPACE && buf[p] !== TAB) p++;
  return p;
}

/** A text trace held in memory, e.g. in tests; `source` names it in errors. */
export function parseTraceText(text: string, source: string): Trace {
  const parser = new TextTraceParser(source);
  parser.push(Buffer.from(text, 'utf8'));
  return parser.end();
}
