// The Jupyter wire protocol (v5.3): messages as ZeroMQ multipart frames,
// signed with HMAC-SHA256 over the four JSON parts.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import * as os from "node:os";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = Buffer.from("<IDS|MSG>");

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C = Record<string, unknown>> {
  header: MessageHeader;
  /** Empty ({}) when the message answers nothing. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** One client session: builds, signs, encodes and verifies messages with the connection key. */
export class Session {
  readonly id = randomUUID();
  private readonly username = os.userInfo().username;

  constructor(private readonly key: string) {}

  message<C>(msgType: string, content: C, metadata: Record<string, unknown> = {}): Message<C> {
    return {
      header: {
        msg_id: randomUUID(),
        session: this.id,
        username: this.username,
        date: new Date().toISOString(),
        msg_type: msgType,
        version: PROTOCOL_VERSION,
      },
      parent_header: {},
      metadata,
      content,
      buffers: [],
    };
  }

  /** Frames for a DEALER socket: delimiter, signature, header, parent, metadata, content, buffers. */
  encode(msg: Message<unknown>): Buffer[] {
    const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p)));
    return [DELIMITER, Buffer.from(this.sign(parts)), ...parts, ...msg.buffers];
  }

  /** Parses frames (any routing identities before the delimiter are dropped); throws on a bad signature. */
  decode(frames: Buffer[]): Message {
    const at = frames.findIndex((f) => f.equals(DELIMITER));
    if (at < 0 || frames.length < at + 6) throw new Error("malformed Jupyter message: no <IDS|MSG> delimiter or missing parts");
    const signature = frames[at + 1];
    const parts = frames.slice(at + 2, at + 6);
    const expected = Buffer.from(this.sign(parts));
    if (this.key && (signature.length !== expected.length || !timingSafeEqual(signature, expected))) {
      throw new Error("Jupyter message with an invalid HMAC signature");
    }
    const [header, parent, metadata, content] = parts.map((p) => JSON.parse(p.toString("utf8")));
    return { header, parent_header: parent, metadata, content, buffers: frames.slice(at + 6) };
  }

  private sign(parts: Buffer[]): string {
    if (!this.key) return "";
    const hmac = createHmac("sha256", this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest("hex");
  }
}
