/**
 * The trace formats: text parsing with its errors (file:line and the problem), binary records with
 * theirs, gzip detected by content, and lossless round trips between the forms.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseTraceText, readTrace } from '../lib/trace/read';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, type Trace } from '../lib/trace/trace';
import { writeTrace } from '../lib/trace/write';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-trace-format-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const file = (name: string) => path.join(scratch, name);

const SAMPLE = `# hakmem-trace v1
# command: demo --flag
# date: 2026-01-01T00:00:00Z
m 0 16
c 1 4 32

@1 a 2 64 100
r 0 4096
@1 f 2
m 2 0
r 2 0
f 0
f 1
@65535 m 4294967295 9007199254740991
`;

/** The ops as plain rows, for deep comparison. */
function rows(t: Trace): number[][] {
  return Array.from({ length: t.length }, (_, i) => [t.kind[i], t.id[i], t.size[i], t.aux[i], t.thread[i]]);
}

describe('text form', () => {
  test('parses every op, thread tags, comments; blank lines are skipped', () => {
    const t = parseTraceText(SAMPLE, 'sample');
    assert.deepEqual(t.comments, ['command: demo --flag', 'date: 2026-01-01T00:00:00Z']);
    assert.deepEqual(rows(t), [
      [OP_MALLOC, 0, 16, 0, 0],
      [OP_CALLOC, 1, 32, 4, 0],
      [OP_ALIGNED, 2, 100, 64, 1],
      [OP_REALLOC, 0, 4096, 0, 0],
      [OP_FREE, 2, 0, 0, 1],
      [OP_MALLOC, 2, 0, 0, 0],
      [OP_REALLOC, 2, 0, 0, 0],
      [OP_FREE, 0, 0, 0, 0],
      [OP_FREE, 1, 0, 0, 0],
      [OP_MALLOC, 4294967295, 9007199254740991, 0, 65535],
    ]);
  });

  test('CRLF line endings and a missing final newline are accepted', () => {
    const t = parseTraceText('# hakmem-trace v1\r\nm 1 8\r\nf 1', 'crlf');
    assert.deepEqual(rows(t), [
      [OP_MALLOC, 1, 8, 0, 0],
      [OP_FREE, 1, 0, 0, 0],
    ]);
  });

  const V = '# hakmem-trace v1\n';
  const cases: [string, string, RegExp][] = [
    ['empty', '', /^empty:.*empty file: the first line must be '# hakmem-trace v1'/],
    ['no version', 'm 1 8\n', /^no version:1: the first line must be '# hakmem-trace v1' \(in 'm 1 8'\)/],
    ['wrong version', '# hakmem-trace v2\nm 1 8\n', /^wrong version:1: the first line must be/],
    ['unknown op', `${V}m 1 8\nx 1 8\n`, /^unknown op:3: unknown op 'x' \(expected m, c, r, a or f\)/],
    ['long op', `${V}malloc 1 8\n`, /^long op:2: unknown op 'malloc'/],
    ['too few', `${V}c 1 8\n`, /^too few:2: 'c' takes 3 field\(s\) \(ID N SIZE\), got 2/],
    ['too many', `${V}f 1 2\n`, /^too many:2: 'f' takes 1 field\(s\) \(ID\), got 2/],
    ['negative', `${V}m 1 -8\n`, /^negative:2: SIZE is negative: '-8'/],
    ['not integer', `${V}m 1 8.5\n`, /^not integer:2: SIZE is not a non-negative integer: '8.5'/],
    ['hex', `${V}m 0x1 8\n`, /^hex:2: ID is not a non-negative integer: '0x1'/],
    ['id too big', `${V}m 4294967296 8\n`, /^id too big:2: ID 4294967296 does not fit in 32 bits/],
    ['size too big', `${V}m 1 9007199254740992\n`, /^size too big:2: SIZE 9007199254740992 is too large/],
    ['bad tag', `${V}@x m 1 8\n`, /^bad tag:2: thread tag is not a non-negative integer: 'x'/],
    ['tag too big', `${V}@65536 m 1 8\n`, /^tag too big:2: thread tag 65536 does not fit in 16 bits/],
    ['align', `${V}a 1 24 100\n`, /^align:2: ALIGN 24 is not a power of two/],
    ['align 0', `${V}a 1 0 100\n`, /^align 0:2: ALIGN 0 is not a power of two/],
    ['free not live', `${V}m 1 8\nf 1\nf 1\n`, /^free not live:4: free of ID 1, which is not live/],
    ['realloc not live', `${V}m 1 8\nr 2 16\n`, /^realloc not live:3: realloc of ID 2, which is not live/],
    ['double alloc', `${V}m 1 8\n# note\nc 1 2 3\n`, /^double alloc:4: ID 1 allocated again while live/],
  ];
  for (const [name, text, message] of cases) {
    test(`rejects: ${name}`, () => {
      assert.throws(() => parseTraceText(text, name), (e: Error) => {
        assert.equal(e.name, 'TraceError');
        assert.match(e.message, message);
        return true;
      });
    });
  }

  test('an ID may be allocated again after its free', () => {
    const t = parseTraceText(`${V}m 1 8\nf 1\nm 1 16\n`, 'reuse');
    assert.equal(t.length, 3);
  });
});

describe('files', () => {
  test('text -> binary -> text keeps every op and comment (also gzipped)', async () => {
    writeFileSync(file('a.trace'), SAMPLE);
    const original = await readTrace(file('a.trace'));
    await writeTrace(original, file('b.hktrace'));
    await writeTrace(await readTrace(file('b.hktrace')), file('c.trace'));
    await writeTrace(await readTrace(file('c.trace')), file('d.hktrace.gz'));
    await writeTrace(await readTrace(file('d.hktrace.gz')), file('e.trace.gz'));
    const back = await readTrace(file('e.trace.gz'));
    assert.deepEqual(rows(back), rows(original));
    assert.deepEqual(back.comments, original.comments);
    // The text written is the canonical form of the input: the same lines less the blank one.
    assert.equal(readFileSync(file('c.trace'), 'utf8'), SAMPLE.replace('\n\n', '\n'));
    assert.equal(readFileSync(file('b.hktrace')).subarray(0, 8).toString('latin1'), 'HKTRACE1');
    assert.deepEqual([...readFileSync(file('e.trace.gz')).subarray(0, 2)], [0x1f, 0x8b]);
    assert.equal(readFileSync(file('b.hktrace')).length, 12 + Buffer.byteLength(original.comments.join('\n')) + 24 * 10);
    // Nothing else is left in the folder: temporary files are renamed or removed.
    assert.deepEqual(readdirSync(scratch).filter((f) => f.includes('.tmp')), []);
  });

  test('a large trace crosses chunk boundaries intact', async () => {
    let text = '# hakmem-trace v1\n';
    for (let i = 0; i < 200_000; i++) text += i % 2 === 0 ? `m ${i % 1000} ${i}\n` : `f ${(i - 1) % 1000}\n`;
    writeFileSync(file('big.trace.gz'), gzipSync(text));
    const t = await readTrace(file('big.trace.gz'));
    assert.equal(t.length, 200_000);
    assert.equal(t.size[199_998], 199_998);
    await writeTrace(t, file('big.hktrace'));
    assert.deepEqual(rows(await readTrace(file('big.hktrace'))), rows(t));
  });

  test('errors: missing file, truncated gzip, partial binary record, binary op errors', async () => {
    await assert.rejects(readTrace(file('nope.trace')), /nope\.trace: no such file$/);

    const gz = gzipSync(SAMPLE);
    writeFileSync(file('cut.trace.gz'), gz.subarray(0, gz.length - 12));
    await assert.rejects(readTrace(file('cut.trace.gz')), /cut\.trace\.gz: truncated gzip data/);

    await writeTrace(parseTraceText(SAMPLE, 's'), file('full.hktrace'));
    const bin = readFileSync(file('full.hktrace'));
    writeFileSync(file('partial.hktrace'), bin.subarray(0, bin.length - 5));
    await assert.rejects(
      readTrace(file('partial.hktrace')),
      /partial\.hktrace:record 9: truncated binary trace: a partial record of 19 of 24 bytes at the end/,
    );
    writeFileSync(file('header.hktrace'), bin.subarray(0, 10));
    await assert.rejects(readTrace(file('header.hktrace')), /header\.hktrace: truncated binary trace: the header is incomplete/);

    // Record 7 (f 0) turned into a free of ID 9, which was never allocated.
    const bad = Buffer.from(bin);
    const records = bad.length - 24 * 10;
    bad.writeUInt32LE(9, records + 7 * 24 + 4);
    writeFileSync(file('bad.hktrace'), bad);
    await assert.rejects(readTrace(file('bad.hktrace')), /bad\.hktrace:record 7: free of ID 9, which is not live/);
    bad[records + 24] = 7;
    writeFileSync(file('op.hktrace'), bad);
    await assert.rejects(readTrace(file('op.hktrace')), /op\.hktrace:record 1: unknown op 7/);
  });

  test('writing into a missing folder fails and writes nothing', async () => {
    const t = parseTraceText(SAMPLE, 's');
    await assert.rejects(writeTrace(t, file('no/such/dir/x.trace')), /cannot write: the folder .* does not exist/);
  });
});
