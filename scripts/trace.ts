/**
 * npm run trace -- <command> ...   allocation traces: record, stats, convert, bundle.
 * Exit codes: 0 done, 1 failed, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { BUNDLED_TRACES, recordBundle } from '../lib/trace/bundle';
import { readTrace } from '../lib/trace/read';
import { RecordError, recordTrace } from '../lib/trace/record';
import { formatStats, traceStats } from '../lib/trace/stats';
import { writeTrace } from '../lib/trace/write';
import { runMain } from './run-main';

const USAGE = `usage: npm run trace -- <command> ...

commands:
  record --out FILE [--children] -- COMMAND [ARGS...]
      Runs COMMAND with the recorder preloaded (LD_PRELOAD) and writes its allocation trace to
      FILE: text, or binary if FILE ends in .hktrace; gzipped if it ends in .gz. COMMAND's process
      is followed across exec into one trace, so a wrapper that execs the program (pyenv's and
      rbenv's shims, env, a shell script ending in exec) is recorded with the program behind it;
      each image after the first is named in an "exec at op N" comment, and the blocks an image
      left live are freed where the next one begins (exec releases them).
      By default the processes COMMAND starts (fork, posix_spawn, system, a wrapper such as time
      that runs the program as a child) are not recorded and nothing of theirs is mixed in.
      --children records each of them, and theirs, to a trace of its own, FILE with the process
      ID before its extension (run.trace.gz -> run.PID.trace.gz), listed at the end; a forked
      child's trace starts empty (frees of blocks it inherited are not recorded), and with
      --children the recorder's variables stay in the programs' environment.
      A statically linked or setuid program cannot be recorded. A non-zero exit of COMMAND keeps
      the trace, with a warning.
  stats FILE [--json]
      Op counts, request sizes (power-of-two buckets), peak live bytes, block lifetimes in ops
      (p50/p90/p99/max, never freed) and thread count.
  convert IN OUT
      Rewrites a trace in the form OUT's name asks for (text/binary, gzip or not), losslessly.
  bundle [NAME...]
      Records the bundled traces again into data/traces and rewrites its manifest.json
      (${BUNDLED_TRACES.map((b) => b.name).join(', ')}).

The format: lib/trace/README.md.
`;

class UsageError extends Error {}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  try {
    switch (command) {
      case undefined:
        throw new UsageError('no command given');
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case 'record':
        return await record(rest);
      case 'stats':
        return await stats(rest);
      case 'convert':
        return await convert(rest);
      case 'bundle':
        return await bundle(rest);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e instanceof Error && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`trace ${command ?? ''}: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof RecordError) {
      process.stderr.write(`trace record: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function record(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const { values, positionals } = parseArgs({
    args: own,
    options: { out: { type: 'string' }, children: { type: 'boolean' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const commandLine = split === -1 ? positionals : [...positionals, ...argv.slice(split + 1)];
  if (values.out === undefined) throw new UsageError('--out FILE is required');
  if (commandLine.length === 0) throw new UsageError('no COMMAND to record (put it after --)');
  const [program, ...args] = commandLine;
  const r = await recordTrace({ out: values.out, command: program, args, children: values.children });
  const threads = new Set(r.trace.thread).size;
  const ran = [r.program, ...r.execs.map((e) => e.exe)].join(' -> exec ');
  process.stderr.write(`trace record: ${r.trace.length} ops, ${threads} thread(s) from ${ran} -> ${values.out}\n`);
  if (values.children) {
    const written = r.children.filter((c) => c.out !== null);
    process.stderr.write(`trace record: ${written.length} child processes recorded${written.length ? ':' : ''}\n`);
    for (const c of written) process.stderr.write(`  ${c.pid} ${c.program}: ${c.ops} ops -> ${c.out}\n`);
    const empty = r.children.filter((c) => c.out === null && !c.problem).length;
    if (empty) process.stderr.write(`trace record: ${empty} more made no allocations (no trace written)\n`);
    for (const c of r.children.filter((c) => c.problem)) {
      process.stderr.write(`trace record: warning: child ${c.pid} not written: ${c.problem}\n`);
    }
  }
  if (r.exitCode !== 0) {
    const how = r.signal ? `was ended by ${r.signal}` : `exited with code ${r.exitCode}`;
    process.stderr.write(`trace record: warning: the command ${how}; the trace is kept (it may be incomplete)\n`);
  }
  return 0;
}

async function stats(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`stats takes one FILE, got ${positionals.length}`);
  const s = traceStats(await readTrace(positionals[0]));
  process.stdout.write(values.json ? `${JSON.stringify(s)}\n` : formatStats(s, positionals[0]));
  return 0;
}

async function convert(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true });
  if (positionals.length !== 2) throw new UsageError(`convert takes IN and OUT, got ${positionals.length} name(s)`);
  const [input, output] = positionals;
  const trace = await readTrace(input);
  await writeTrace(trace, output);
  process.stderr.write(`trace convert: ${trace.length} ops -> ${output}\n`);
  return 0;
}

async function bundle(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true });
  const known = BUNDLED_TRACES.map((b) => b.name);
  const unknown = positionals.filter((n) => !known.includes(n));
  if (unknown.length) throw new UsageError(`unknown bundled trace(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
  await recordBundle(undefined, positionals, (line) => process.stderr.write(`${line}\n`));
  return 0;
}

runMain('trace', main);
