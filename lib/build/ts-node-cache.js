/**
 * ts-node's transpiler for this project (tsconfig.json, "ts-node": {"transpiler": ...}): TypeScript's
 * transpileModule, its output kept under node_modules/.cache/ts-node/ and reused while the file's
 * text, its path, the compiler options and TypeScript's version are the same. Every fresh process (a bench
 * run, a worker thread, the notebook kernel) otherwise transpiles the same hundred files again,
 * which is most of its start-up. A file with syntax errors is never cached: ts-node reports them.
 * The folder and the entries' extension keep them out of what tslab's TypeScript watches (it ignores
 * changes under node_modules/. and looks up .ts and .json files): a new entry written while a notebook
 * kernel runs must not make it rebuild.
 * Plain JavaScript, as ts-node loads it before it can load TypeScript.
 */
'use strict';
const { createHash, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const CACHE = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'ts-node');

/** @type {import('ts-node').TranspilerFactory} */
exports.create = function create({ service }) {
  const ts = require(service.projectLocalResolveHelper('typescript', true));
  const compilerOptions = service.config.options;
  const optionsKey = createHash('sha1').update(`${ts.version}\0${JSON.stringify(compilerOptions)}`).digest('hex');
  return {
    transpile(input, { fileName }) {
      const key = createHash('sha1').update(`${optionsKey}\0${fileName}\0${input}`).digest('hex');
      const file = path.join(CACHE, `${key}.transpiled`);
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        // not cached yet (or being written by another process): transpile it
      }
      const result = ts.transpileModule(input, { fileName, compilerOptions, reportDiagnostics: true });
      if (!result.diagnostics?.length) {
        // Written whole, then renamed: a process reading at the same time sees all of it or nothing.
        const partial = `${file}.${randomUUID()}`;
        fs.mkdirSync(CACHE, { recursive: true });
        fs.writeFileSync(partial, JSON.stringify({ outputText: result.outputText, sourceMapText: result.sourceMapText }));
        fs.renameSync(partial, file);
      }
      return result;
    },
  };
};
