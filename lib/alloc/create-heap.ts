/** Making a heap, and attaching another thread to a shared one. */
import { isMainThread } from "node:worker_threads";
import { resolveConfig, type HeapConfig, type HeapOptions } from "./config";
import { debugBuildOf } from "./debug-heap";
import { countsFastPaths, fastStatsOf } from "./fast-stats";
import { HeapError } from "./errors";
import { claimThreadId, Heap, type HeapHandle } from "./heap";
import { HeapMemory } from "./heap-memory";
import { LayeredFastPathHeap } from "./layered-fast-path-heap";
import { H, HEAP_MAGIC, LAYOUT_VERSION } from "./layout";
import { initArena } from "./page-arena";
import { initBeforeSlab } from "./tiny-refill";
import { SfcHeap } from "./sfc-heap";
import { AlignedHeap } from "./aligned-heap";
import { formatStats } from "./stats";

const stderrLog = (line: string) => process.stderr.write(line + "\n");

/** Creates a heap over a new ArrayBuffer (or SharedArrayBuffer with `shared: true`). */
export function createHeap(options: HeapOptions = {}): Heap {
  const config = resolveConfig(options);
  let buffer: ArrayBuffer | SharedArrayBuffer;
  try {
    buffer = config.shared ? new SharedArrayBuffer(config.bytes) : new ArrayBuffer(config.bytes);
  } catch (e) {
    throw new HeapError("HEAP_CREATE_FAILED", `cannot allocate a ${config.bytes}-byte ${config.shared ? "SharedArrayBuffer" : "ArrayBuffer"}: ${(e as Error).message}`);
  }
  const mem = new HeapMemory(buffer, config);
  const { metaPages, pagesPerSS, pages } = mem.layout;
  // A SuperSlab starts on a multiple of its size, past the metadata: without one the heap has no tiny tier.
  const firstSuperSlab = Math.ceil(metaPages / pagesPerSS) * pagesPerSS;
  if (firstSuperSlab + pagesPerSS > pages)
    throw new HeapError(
      "HEAP_CREATE_FAILED",
      `a ${config.bytes}-byte heap is too small: its metadata ends at page ${metaPages}, and a SuperSlab of ${pagesPerSS} pages (64 KiB each), aligned to its size, would end at page ${firstSuperSlab + pagesPerSS}, past its ${pages}`,
    );
  mem.i32[H.MAGIC] = HEAP_MAGIC;
  mem.i32[H.VERSION] = LAYOUT_VERSION;
  mem.i32[H.BYTES] = config.bytes;
  mem.i32[H.PAGES] = pages;
  mem.i32[H.HEAP_ID] = (Math.random() * 2 ** 32) | 0;
  initArena(mem);
  initBeforeSlab(mem);
  const heap = instantiate(mem, options.log ?? stderrLog);
  if (config.statsAtExit && typeof process !== "undefined")
    process.once("exit", () => { if (!heap.isDetached) heap.logLine(formatStats(heap.stats())); });
  return heap;
}

/** Attaches the calling thread (usually a worker) to a shared heap: a new Heap with its own caches. */
export function attachHeap(handle: HeapHandle, options: { log?: (line: string) => void } = {}): Heap {
  if (!handle || !(handle.buffer instanceof SharedArrayBuffer) || typeof handle.config !== "object")
    throw new HeapError("INVALID_OPTION", "attachHeap(handle): expected the object returned by heap.handle() (a SharedArrayBuffer and a config)");
  const mem = new HeapMemory(handle.buffer, handle.config as HeapConfig);
  if (mem.i32[H.MAGIC] !== HEAP_MAGIC || mem.i32[H.VERSION] !== LAYOUT_VERSION || mem.i32[H.BYTES] !== handle.config.bytes)
    throw new HeapError("INVALID_OPTION", "attachHeap(handle): the buffer does not hold a hakmem-ts heap of this version");
  const heap = instantiate(mem, options.log ?? stderrLog);
  // A worker that ends normally hands its caches and counters back by itself.
  if (!isMainThread) {
    const onExit = () => heap.detach();
    process.once("exit", onExit);
    heap.onDetach = () => process.off("exit", onExit);
  }
  return heap;
}

function instantiate(mem: HeapMemory, log: (line: string) => void): Heap {
  const c = mem.config;
  const Front = c.align !== 1 ? AlignedHeap : c.layeredFastPath ? LayeredFastPathHeap : c.sfcEnable ? SfcHeap : Heap;
  const Counted = countsFastPaths(c) ? fastStatsOf(Front) : Front;
  const Build = c.build === "debug" ? debugBuildOf(Counted) : Counted;
  return new Build(mem, claimThreadId(mem), log);
}
