// A kernel connection file: five free loopback ports and a fresh signing key.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";

export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: "hmac-sha256";
  kernel_name: string;
}

/** Ports the OS hands out now; held together so the five differ. */
async function freePorts(count: number, ip: string): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen(0, ip, () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Writes a connection file (mode 0600: it holds the key) and returns its contents. */
export async function writeConnectionFile(file: string, kernelName: string): Promise<ConnectionInfo> {
  const ip = "127.0.0.1";
  const [shell, iopub, stdin, control, hb] = await freePorts(5, ip);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip,
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: kernelName,
  };
  fs.writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  return info;
}
