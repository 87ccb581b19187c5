// A live progress line for long cells: one notebook display updated in place,
// or a single-line bar on stderr outside a notebook.
import { Presets, SingleBar } from "cli-progress";
import { tslab } from "./display";

export interface Progress {
  /** Counts n more steps done (default 1). */
  tick(n?: number): void;
  /** Marks the work finished and shows the final line. */
  done(): void;
}

// Updates are throttled so a tight loop does not flood the kernel's iopub channel.
const MIN_UPDATE_MS = 200;

export function progress(label: string, total: number): Progress {
  const api = tslab();
  return api ? notebookProgress(api.newDisplay(), label, total) : stderrProgress(label, total);
}

function notebookProgress(display: { text(s: string): void }, label: string, total: number): Progress {
  const started = Date.now();
  let count = 0;
  let shown = 0;
  const show = () => {
    shown = Date.now();
    display.text(progressLine(label, count, total, shown - started));
  };
  show();
  return {
    tick(n = 1) {
      count = Math.min(total, count + n);
      if (Date.now() - shown >= MIN_UPDATE_MS) show();
    },
    done() {
      count = total;
      show();
    },
  };
}

function stderrProgress(label: string, total: number): Progress {
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} {percentage}% | {duration_formatted} | eta {eta_formatted}`,
    stream: process.stderr,
    hideCursor: false,
  }, Presets.shades_classic);
  bar.start(total, 0);
  return {
    tick: (n = 1) => bar.increment(n),
    done: () => {
      bar.update(total);
      bar.stop();
    },
  };
}

/** "label [#####-----] 5/10 50% 2.0 s, ~2.0 s left" */
export function progressLine(label: string, count: number, total: number, elapsedMs: number): string {
  const fraction = total > 0 ? count / total : 1;
  const width = 30;
  const filled = Math.round(fraction * width);
  const left = count > 0 && count < total ? `, ~${((elapsedMs / count) * (total - count) / 1000).toFixed(1)} s left` : "";
  return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${count}/${total} ${(fraction * 100).toFixed(0)}% ${(elapsedMs / 1000).toFixed(1)} s${left}`;
}
