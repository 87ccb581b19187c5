// A Jupyter client for one kernel process: spawns it from its kernelspec with a
// connection file, then talks the wire protocol over its five ZeroMQ channels.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zmq from "zeromq";
import { writeConnectionFile } from "./connection";
import { KernelSpec } from "./kernelspec";
import { Message, Session } from "./wire";

export interface ExecuteReply {
  status: "ok" | "error" | "abort";
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface StartOptions {
  name: string;
  spec: KernelSpec;
  /** The kernel's working directory, as Jupyter gives it: the notebook's folder. */
  cwd: string;
  startupTimeoutMs?: number;
}

/** Thrown when the kernel does not answer in time. */
export class KernelTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);
    this.name = "KernelTimeoutError";
  }
}

type Waiter = (msg: Message) => void;
const LOG_TAIL = 4000;

export class Kernel {
  /** The kernel_info_reply content (language_info, implementation, ...). */
  info: Record<string, unknown> = {};
  private readonly replies = new Map<string, Waiter>();
  private readonly iopubWaiters = new Map<string, Waiter>();
  private log = "";
  private closing = false;
  private shutdownDone: Promise<void> | null = null;
  private readonly died: Promise<never>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly session: Session,
    private readonly tmpDir: string,
    private readonly shell: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    private readonly control: zmq.Dealer,
    private readonly stdin: zmq.Dealer,
    private readonly hb: zmq.Request,
  ) {
    const keepTail = (chunk: Buffer) => { this.log = (this.log + chunk.toString("utf8")).slice(-LOG_TAIL); };
    child.stdout?.on("data", keepTail);
    child.stderr?.on("data", keepTail);
    this.died = new Promise<never>((_, reject) => {
      child.once("error", (err) => reject(new Error(`cannot start the kernel (${child.spawnfile}): ${err.message}`)));
      child.once("exit", (code, signal) => reject(new Error(
        `the kernel process exited (${signal ?? `code ${code}`})${this.log ? `; its last output:\n${this.log}` : ""}`,
      )));
    });
    this.died.catch(() => undefined); // observed by whoever waits; never unhandled
    this.readLoop(shell, (msg) => this.resolveReply(msg));
    this.readLoop(control, (msg) => this.resolveReply(msg));
    this.readLoop(iopub, (msg) => this.iopubWaiters.get(msg.parent_header.msg_id ?? "")?.(msg));
    this.readLoop(stdin, (msg) => this.answerInput(msg));
  }

  /** Spawns the kernel and waits until shell, iopub and heartbeat all answer. */
  static async start(options: StartOptions): Promise<Kernel> {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "hakmem-kernel-"));
    const file = path.join(tmpDir, "connection.json");
    const conn = await writeConnectionFile(file, options.name);
    const argv = options.spec.argv.map((a) => a.replace("{connection_file}", file));
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const address = (port: number) => `${conn.transport}://${conn.ip}:${port}`;
    const dealer = (port: number) => {
      const socket = new zmq.Dealer({ linger: 0 });
      socket.connect(address(port));
      return socket;
    };
    const iopub = new zmq.Subscriber({ linger: 0 });
    iopub.subscribe();
    iopub.connect(address(conn.iopub_port));
    const hb = new zmq.Request({ linger: 0 });
    hb.connect(address(conn.hb_port));
    const kernel = new Kernel(child, new Session(conn.key), tmpDir,
      dealer(conn.shell_port), iopub, dealer(conn.control_port), dealer(conn.stdin_port), hb);
    try {
      await kernel.handshake(options.startupTimeoutMs ?? 60_000);
    } catch (err) {
      await kernel.shutdown();
      throw err;
    }
    return kernel;
  }

  /**
   * Runs code; `onIopub` sees every iopub message the request causes. Resolves
   * with the execute_reply once the kernel is idle again.
   */
  async execute(code: string, timeoutMs: number, onIopub: (msg: Message) => void): Promise<ExecuteReply> {
    const request = this.session.message("execute_request", {
      code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
    });
    const idle = new Promise<void>((resolve) => this.iopubWaiters.set(request.header.msg_id, (msg) => {
      onIopub(msg);
      if (msg.header.msg_type === "status" && msg.content.execution_state === "idle") resolve();
    }));
    try {
      const [reply] = await this.guard(Promise.all([this.send(this.shell, request), idle]), timeoutMs, "the cell");
      return reply.content as unknown as ExecuteReply;
    } finally {
      this.iopubWaiters.delete(request.header.msg_id);
    }
  }

  /** Asks the kernel to shut down, then makes sure the process and the sockets are gone. */
  shutdown(): Promise<void> {
    this.shutdownDone ??= this.stop();
    return this.shutdownDone;
  }

  private async stop(): Promise<void> {
    // From here on a socket that fails is the shutdown, not news for the log.
    this.closing = true;
    const exited = () => this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined;
    const exit = new Promise<void>((resolve) => (exited() ? resolve() : this.child.once("exit", () => resolve())));
    const waitExit = (ms: number) => Promise.race([exit, delay(ms)]);
    if (!exited()) {
      try {
        await this.guard(this.send(this.control, this.session.message("shutdown_request", { restart: false })), 3000, "shutdown");
      } catch {
        // An unresponsive kernel is stopped by signal below.
      }
      await waitExit(2000);
      if (!exited()) this.child.kill("SIGTERM");
      await waitExit(2000);
      if (!exited()) this.child.kill("SIGKILL");
      await exit;
    }
    for (const socket of [this.shell, this.iopub, this.control, this.stdin, this.hb]) socket.close();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }

  private async handshake(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // iopub is a PUB/SUB channel: messages sent before our subscription is
    // connected are lost. Repeat kernel_info until one of its iopub status
    // messages arrives, so no cell output can be missed afterwards.
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new KernelTimeoutError("the kernel start (kernel_info, iopub)", timeoutMs);
      const request = this.session.message("kernel_info_request", {});
      const seen = new Promise<boolean>((resolve) => this.iopubWaiters.set(request.header.msg_id, () => resolve(true)));
      try {
        const reply = await this.guard(this.send(this.shell, request), left, "the kernel start (kernel_info)");
        this.info = reply.content;
        if (await Promise.race([seen, delay(500).then(() => false)])) break;
      } finally {
        this.iopubWaiters.delete(request.header.msg_id);
      }
    }
    await this.guard(this.ping(), Math.max(1000, deadline - Date.now()), "the kernel heartbeat");
  }

  private async ping(): Promise<void> {
    await this.hb.send("ping");
    const [echo] = await this.hb.receive();
    if (echo.toString() !== "ping") throw new Error(`unexpected heartbeat reply "${echo.toString()}"`);
  }

  /** Sends a request and resolves with the reply that names it as parent. */
  private send(socket: zmq.Dealer, request: Message<unknown>): Promise<Message> {
    const reply = new Promise<Message>((resolve) => this.replies.set(request.header.msg_id, resolve));
    return socket.send(this.session.encode(request)).then(() => reply)
      .finally(() => this.replies.delete(request.header.msg_id));
  }

  private resolveReply(msg: Message): void {
    this.replies.get(msg.parent_header.msg_id ?? "")?.(msg);
  }

  // We never allow stdin; should a kernel still ask, answer empty so it cannot hang.
  private answerInput(request: Message): void {
    if (request.header.msg_type !== "input_request") return;
    const reply = this.session.message("input_reply", { value: "" });
    reply.parent_header = request.header;
    void this.stdin.send(this.session.encode(reply));
  }

  /** Races a kernel operation against a timeout and the kernel's death. */
  private guard<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KernelTimeoutError(what, timeoutMs)), timeoutMs);
    });
    return Promise.race([work, timeout, this.died]).finally(() => clearTimeout(timer));
  }

  private note(err: unknown): void {
    this.log = `${this.log}\n[client] ${(err as Error).message}`.slice(-LOG_TAIL);
  }

  private readLoop(socket: zmq.Dealer | zmq.Subscriber, handle: (msg: Message) => void): void {
    void (async () => {
      try {
        for await (const frames of socket) {
          try {
            handle(this.session.decode(frames));
          } catch (err) {
            this.note(err); // a bad message is dropped, not fatal
          }
        }
      } catch (err) {
        if (!this.closing) this.note(err);
      }
    })();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
