// Turns a kernel's iopub messages into nbformat outputs, as Jupyter front ends do.
import { DisplayDataOutput, ExecuteResultOutput, MimeBundle, Output } from "./nbformat";
import { Message } from "./wire";

type RichOutput = DisplayDataOutput | ExecuteResultOutput;

interface OutputContent {
  name?: "stdout" | "stderr";
  text?: string;
  data?: MimeBundle;
  metadata?: Record<string, unknown>;
  transient?: { display_id?: string };
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  wait?: boolean;
}

/** Collects the outputs of one notebook run; display ids stay updatable across cells. */
export class OutputCollector {
  private outputs: Output[] = [];
  private readonly displays = new Map<string, RichOutput[]>();
  private clearPending = false;

  /** Outputs of the following messages go to this (cell's) array. */
  begin(outputs: Output[]): void {
    this.outputs = outputs;
    this.clearPending = false;
  }

  handle(msg: Message): void {
    const c = msg.content as OutputContent;
    switch (msg.header.msg_type) {
      case "stream": {
        this.applyPendingClear();
        const last = this.outputs[this.outputs.length - 1];
        if (last?.output_type === "stream" && last.name === c.name) last.text = `${last.text as string}${c.text ?? ""}`;
        else this.outputs.push({ output_type: "stream", name: c.name ?? "stdout", text: c.text ?? "" });
        break;
      }
      case "display_data":
        this.applyPendingClear();
        this.remember(c, this.push({ output_type: "display_data", data: c.data ?? {}, metadata: c.metadata ?? {} }));
        break;
      case "execute_result":
        this.applyPendingClear();
        this.remember(c, this.push({
          output_type: "execute_result", execution_count: c.execution_count ?? null, data: c.data ?? {}, metadata: c.metadata ?? {},
        }));
        break;
      case "update_display_data":
        // Updates replace the data of every output shown under that id, even in earlier cells.
        for (const output of this.displays.get(c.transient?.display_id ?? "") ?? []) {
          output.data = c.data ?? {};
          output.metadata = c.metadata ?? {};
        }
        break;
      case "error":
        this.applyPendingClear();
        this.outputs.push({ output_type: "error", ename: c.ename ?? "Error", evalue: c.evalue ?? "", traceback: c.traceback ?? [] });
        break;
      case "clear_output":
        if (c.wait) this.clearPending = true;
        else this.outputs.length = 0;
        break;
    }
  }

  private push<T extends RichOutput>(output: T): T {
    this.outputs.push(output);
    return output;
  }

  private remember(c: OutputContent, output: RichOutput): void {
    const id = c.transient?.display_id;
    if (id) this.displays.set(id, [...(this.displays.get(id) ?? []), output]);
  }

  private applyPendingClear(): void {
    if (!this.clearPending) return;
    this.outputs.length = 0;
    this.clearPending = false;
  }
}
