/** Every way a heap operation can be refused. */
export type HeapErrorCode =
  | "INVALID_SIZE"
  | "INVALID_POINTER"
  | "INVALID_TYPE"
  | "DOUBLE_FREE"
  | "CORRUPT_HEADER"
  | "HEAP_CORRUPT"
  | "INVALID_OPTION"
  | "HEAP_CREATE_FAILED"
  | "DETACHED";

/** An allocator error: `code` says what kind, the message names the pointer or size and what is wrong. */
export class HeapError extends Error {
  readonly code: HeapErrorCode;
  readonly ptr: number | undefined;

  constructor(code: HeapErrorCode, message: string, ptr?: number) {
    super(`${code}: ${message}`);
    this.name = "HeapError";
    this.code = code;
    this.ptr = ptr;
  }
}

/** Formats a pointer the way every message shows it: decimal offset and hex. */
export function fmtPtr(ptr: number): string {
  return Number.isInteger(ptr) && ptr >= 0 ? `ptr ${ptr} (0x${ptr.toString(16)})` : `ptr ${String(ptr)}`;
}

/** Formats a value a caller passed, so a string "8" does not read like the number 8. */
export function fmtValue(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  return typeof v === "number" ? String(v) : (JSON.stringify(v, bigintAsText) ?? String(v));
}

/** JSON.stringify throws on a BigInt, here or nested: shows it as `5n` instead. */
function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}
