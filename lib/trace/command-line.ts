/**
 * A command line written as one string (a notebook parameter, a config field) split into the words
 * a POSIX shell would pass, without running a shell: the recorder must start the program itself,
 * since a shell in front of it would be the process recorded.
 */

export interface CommandLine {
  /** Leading NAME=VALUE words: variables for the command's environment. */
  env: Record<string, string>;
  command: string;
  args: string[];
}

/** Why a command line cannot be split. */
export class CommandLineError extends Error {}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;

/**
 * Splits `line` as sh does for a simple command: words separated by blanks; '...' is literal;
 * "..." is literal except for \" \\ \$ \` and backslash-newline; a backslash outside quotes takes
 * the next character literally (backslash-newline joins lines). Leading NAME=VALUE words (the name
 * and = unquoted) become `env`. Expansions ($VAR, globs, a leading ~), pipes, redirections, `;`,
 * `&` and comments are not supported: such a character outside quotes is an error, not text passed on.
 */
export function parseCommandLine(line: string): CommandLine {
  // plain: how many characters the word had before its first quote or backslash.
  const words: { text: string; plain: number }[] = [];
  let word: string | null = null;
  let plain: number | null = null;
  let i = 0;
  const push = () => {
    if (word !== null) words.push({ text: word, plain: plain ?? word.length });
    word = null;
    plain = null;
  };
  const quoting = () => {
    plain ??= (word ?? '').length;
  };
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      push();
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new CommandLineError(`unclosed ' at character ${i + 1} of: ${line}`);
      quoting();
      word = (word ?? '') + line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1])) {
          if (line[j + 1] !== '\n') text += line[j + 1];
          j++;
        } else {
          text += line[j];
        }
      }
      if (j >= line.length) throw new CommandLineError(`unclosed " at character ${i + 1} of: ${line}`);
      quoting();
      word = (word ?? '') + text;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError(`a command line cannot end in a backslash: ${line}`);
      if (line[i + 1] !== '\n') {
        quoting();
        word = (word ?? '') + line[i + 1];
      }
      i += 2;
    } else if ('|&;<>()$`*?[~#'.includes(c) && !(c === '#' && word !== null) && !(c === '~' && word !== null)) {
      throw new CommandLineError(
        `'${c}' at character ${i + 1} would be a shell feature (not supported here; quote it to pass it on): ${line}`,
      );
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  push();

  const env: Record<string, string> = {};
  let k = 0;
  for (; k < words.length; k++) {
    const { text, plain } = words[k];
    const m = ASSIGNMENT.exec(text);
    if (!m || m[0].length > plain) break;
    env[m[1]] = text.slice(m[0].length);
  }
  if (k === words.length) throw new CommandLineError(`no command in: ${JSON.stringify(line)}`);
  return { env, command: words[k].text, args: words.slice(k + 1).map((w) => w.text) };
}
