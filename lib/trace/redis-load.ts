/**
 * The load for the bundled redis trace: while the recorder runs redis-server on a Unix socket, this
 * waits for the socket, runs redis-benchmark against it (a separate process, not recorded) and then
 * shuts the server down, which ends the recording.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** How long the server may take to open its socket. */
const START_TIMEOUT_MS = 30_000;

/** The server's command line: no persistence, no TCP port, quiet. */
export function redisServerArgs(socket: string): string[] {
  return ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
}

/** redis-benchmark's arguments after the socket. */
export const REDIS_BENCHMARK_ARGS = ['-n', '5000', '-r', '5000', '-d', '64', '-q', '-t', 'set,get,incr,lpush,rpop,sadd,hset,spop,lrange_100'];

/** Removes a socket left by an earlier run, so that its presence means this server is up. */
export async function clearSocket(socket: string): Promise<void> {
  await fs.rm(socket, { force: true });
}

/** Runs the benchmark once the server listens on `socket`; always asks the server to shut down. */
export async function driveRedis(socket: string): Promise<void> {
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!existsSync(socket)) {
      if (Date.now() > deadline) throw new Error(`redis-server did not open ${socket} within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await execFileAsync('redis-benchmark', ['-s', socket, ...REDIS_BENCHMARK_ARGS]).catch((e: Error) => {
      throw new Error(`redis-benchmark failed (install the Debian package redis-tools): ${e.message}`);
    });
  } finally {
    await execFileAsync('redis-cli', ['-s', socket, 'shutdown', 'nosave']).catch(() => {
      // not up, or already gone: the recording ends with the server either way
    });
  }
}
