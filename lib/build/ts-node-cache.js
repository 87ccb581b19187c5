/**
 * ts-node's transpiler for this project (tsconfig.json, "ts-node": {"transpiler": ...}): TypeScript's
 * transpileModule, its output kept under .cache/transpiled/ and reused while the file's text, its
 * path, the compiler options and TypeScript's version are the same. Every fresh process (a bench
 * run, a worker thread, the notebook kernel) otherwise transpiles the same hundred files again,
 * which is most of its start-up. A file with syntax errors is never cached: ts-node reports them.
 * Plain JavaScript, as ts-node loads it before it can load TypeScript.
 */
'use strict';
const { createHash, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const CACHE = path.join(__dirname, '..', '..', '.cache', 'transpiled');

/** @type {import('ts-node').TranspilerFactory} */
exports.create = function create({ service }) {
  const ts = require(service.projectLocalResolveHelper('typescript', true));
  const compilerOptions = service.config.options;
  const optionsKey = createHash('sha1').update(`${ts.version}\0${JSON.stringify(compilerOptions)}`).digest('hex');
  return {
    transpile(input, { fileName }) {
      const key = createHash('sha1').update(`${optionsKey}\0${fileName}\0${input}`).digest('hex');
      const file = path.join(CACHE, `${key}.json`);
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
