/**
 * A number per block ID, for checking and measuring traces: IDs are u32, usually small (a recorder
 * reuses freed ones), so small IDs index a typed array grown by doubling and the rare large ones go to
 * a Map. NaN means "no entry".
 */
const DENSE_LIMIT = 1 << 20;

export class IdTable {
  private dense = new Float64Array(1024).fill(NaN);
  private readonly sparse = new Map<number, number>();

  get(id: number): number {
    if (id < DENSE_LIMIT) return id < this.dense.length ? this.dense[id] : NaN;
    return this.sparse.get(id) ?? NaN;
  }

  has(id: number): boolean {
    return !Number.isNaN(this.get(id));
  }

  set(id: number, value: number): void {
    if (id >= DENSE_LIMIT) {
      this.sparse.set(id, value);
      return;
    }
    if (id >= this.dense.length) {
      let n = this.dense.length;
      while (n <= id) n *= 2;
      const grown = new Float64Array(n).fill(NaN);
      grown.set(this.dense);
      this.dense = grown;
    }
    this.dense[id] = value;
  }

  delete(id: number): void {
    if (id < DENSE_LIMIT) {
      if (id < this.dense.length) this.dense[id] = NaN;
    } else {
      this.sparse.delete(id);
    }
  }
}
