/**
 * Builds a Trace op by op, checking each against the ops before it (a block is allocated only while
 * not live, freed or resized only while live), with columns grown by doubling. The text and binary
 * readers share it, so both forms obey the same rules.
 */
import { IdTable } from './id-table';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_LETTERS, OP_REALLOC, type Trace } from './trace';

const MAX_ID = 0xffff_ffff;
const MAX_THREAD = 0xffff;

export class TraceBuilder {
  length = 0;
  readonly comments: string[] = [];
  private kind = new Uint8Array(1024);
  private id = new Uint32Array(1024);
  private size = new Float64Array(1024);
  private aux = new Float64Array(1024);
  private thread = new Uint16Array(1024);
  private readonly live = new IdTable();

  /**
   * Appends one op; returns what is wrong with it instead (and appends nothing). Numbers must already
   * be non-negative integers no larger than 2^53 - 1.
   */
  add(kind: number, id: number, size: number, aux: number, thread: number): string | null {
    if (kind > OP_FREE) return `unknown op ${kind}`;
    if (id > MAX_ID) return `ID ${id} does not fit in 32 bits`;
    if (thread > MAX_THREAD) return `thread tag ${thread} does not fit in 16 bits`;
    const op = OP_LETTERS[kind];
    if (kind === OP_FREE) {
      if (size !== 0 || aux !== 0) return `a free has no SIZE or N/ALIGN (got ${size}, ${aux})`;
    } else if (kind !== OP_CALLOC && kind !== OP_ALIGNED && aux !== 0) {
      return `'${op}' has no N/ALIGN (got ${aux})`;
    }
    if (kind === OP_ALIGNED && !isPowerOfTwo(aux)) return `ALIGN ${aux} is not a power of two`;
    if (kind === OP_CALLOC && aux * size > Number.MAX_SAFE_INTEGER) return `calloc of ${aux} * ${size} bytes is too large`;

    const isLive = this.live.has(id);
    if (kind === OP_FREE || kind === OP_REALLOC) {
      if (!isLive) return `${kind === OP_FREE ? 'free' : 'realloc'} of ID ${id}, which is not live`;
      if (kind === OP_FREE) this.live.delete(id);
    } else {
      if (isLive) return `ID ${id} allocated again while live`;
      this.live.set(id, 1);
    }

    if (this.length === this.kind.length) this.grow();
    const i = this.length++;
    this.kind[i] = kind;
    this.id[i] = id;
    this.size[i] = size;
    this.aux[i] = aux;
    this.thread[i] = thread;
    return null;
  }

  /** The trace so far, in arrays of exactly its length. */
  finish(): Trace {
    const n = this.length;
    return {
      length: n,
      kind: this.kind.slice(0, n),
      id: this.id.slice(0, n),
      size: this.size.slice(0, n),
      aux: this.aux.slice(0, n),
      thread: this.thread.slice(0, n),
      comments: [...this.comments],
    };
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const grown = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.kind = grown(this.kind, (k) => new Uint8Array(k));
    this.id = grown(this.id, (k) => new Uint32Array(k));
    this.size = grown(this.size, (k) => new Float64Array(k));
    this.aux = grown(this.aux, (k) => new Float64Array(k));
    this.thread = grown(this.thread, (k) => new Uint16Array(k));
  }
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}
