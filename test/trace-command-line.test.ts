/** Command lines written as one string, split into words as sh would (for the recorder, which runs no shell). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandLineError, parseCommandLine } from '../lib/trace/command-line';

describe('parseCommandLine', () => {
  it('splits on blanks and keeps quoted text whole', () => {
    assert.deepEqual(parseCommandLine(`perl -e 'print "a b", $x; (1) | 2'  last`), {
      env: {},
      command: 'perl',
      args: ['-e', 'print "a b", $x; (1) | 2', 'last'],
    });
    assert.deepEqual(parseCommandLine('printf "%s \\"q\\" \\\\ \\$HOME \\n" a\\ b \'\' x"y"\'z\'').args, [
      '%s "q" \\ $HOME \\n',
      'a b',
      '',
      'xyz',
    ]);
    assert.deepEqual(parseCommandLine('\tgit  log\n-n 3 \\\n  --oneline').args, ['log', '-n', '3', '--oneline']);
  });

  it('takes leading NAME=VALUE words as the environment', () => {
    assert.deepEqual(parseCommandLine(`PYTHONMALLOC=malloc A="x y" B= python3 -c 'import json' C=1`), {
      env: { PYTHONMALLOC: 'malloc', A: 'x y', B: '' },
      command: 'python3',
      args: ['-c', 'import json', 'C=1'],
    });
    // A quoted name is no assignment: the word is the command.
    assert.equal(parseCommandLine(`'A=1' b`).command, 'A=1');
    assert.equal(parseCommandLine(`A\\=1 b`).command, 'A=1');
  });

  it('refuses what only a shell would do, and lines without a command', () => {
    for (const line of ['ls *.c', 'echo $HOME', 'a | b', 'a; b', 'a > f', 'a &', '~/bin/x', 'a # note', '(a)']) {
      assert.throws(() => parseCommandLine(line), CommandLineError, line);
    }
    for (const line of ['', '   ', 'A=1', `echo 'open`, 'echo "open', 'echo \\']) {
      assert.throws(() => parseCommandLine(line), CommandLineError, JSON.stringify(line));
    }
    // Inside a word, # and ~ are ordinary characters.
    assert.deepEqual(parseCommandLine('a b#c d~e').args, ['b#c', 'd~e']);
  });
});
