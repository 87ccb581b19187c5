/**
 * The allocator's modules depend one way: heap.ts uses the tiers, the tiers take constants from the
 * definition modules (layout.ts, header.ts, size-classes.ts) and the heap only as a type. A value
 * import that closes a cycle inside lib/alloc makes some module run before another it reads at load
 * time (CommonJS hands it a half-filled exports object), so this test fails on any such cycle.
 * Type-only imports (`import type`, or `{ type X }` for every name) vanish from the output and are
 * not edges.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const ALLOC = path.join(__dirname, "..", "lib", "alloc");

/** The modules (by file name, without .ts) a source imports or re-exports as values, relative imports only. */
function valueImports(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of sf.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined && clause.name === undefined && named !== undefined && ts.isNamedImports(named) &&
        named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      if (onlyTypes) continue;
      spec = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st)) {
      if (st.isTypeOnly) continue;
      const named = st.exportClause;
      if (named !== undefined && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)) continue;
      spec = st.moduleSpecifier;
    }
    if (spec !== undefined && ts.isStringLiteral(spec) && spec.text.startsWith("./")) out.push(spec.text.slice(2));
  }
  return out;
}

/** Every cycle of value imports, each as the chain of modules around it (first = last). */
function importCycles(sources: Record<string, string>): string[][] {
  const graph = new Map<string, string[]>();
  for (const [name, src] of Object.entries(sources)) graph.set(name, valueImports(`${name}.ts`, src).filter((d) => d in sources));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    stack.push(n);
    for (const d of graph.get(n)!) {
      if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (state.get(d) === undefined) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (state.get(n) === undefined) visit(n);
  return cycles;
}

function allocSources(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(ALLOC)) if (f.endsWith(".ts")) out[f.slice(0, -3)] = fs.readFileSync(path.join(ALLOC, f), "utf8");
  return out;
}

describe("lib/alloc import graph", () => {
  it("has no cycle of value imports", () => {
    const sources = allocSources();
    assert.ok(Object.keys(sources).length > 20, "read the allocator's modules");
    assert.deepEqual(importCycles(sources).map((c) => c.join(" -> ")), []);
  });

  it("no tier module imports heap.ts for a value (heap.ts uses the tiers, not the other way)", () => {
    const sources = allocSources();
    const reached = new Set<string>();
    const walk = (n: string): void => {
      if (reached.has(n)) return;
      reached.add(n);
      for (const d of valueImports(n, sources[n])) if (d in sources) walk(d);
    };
    for (const d of valueImports("heap", sources.heap)) walk(d);
    assert.equal(reached.has("heap"), false, "a module heap.ts imports reaches heap.ts back through value imports");
  });

  it("finds a cycle when there is one, through re-exports too, and ignores type-only imports", () => {
    const cyclic = {
      heap: `import { refill } from "./tiny-refill";\nexport class Heap {}\nexport const K = 1;`,
      "tiny-refill": `import { K } from "./heap";\nexport function refill() { return K; }`,
    };
    assert.deepEqual(importCycles(cyclic), [["heap", "tiny-refill", "heap"]]);
    const viaReExport = {
      a: `export { b } from "./b";`,
      b: `import * as a from "./a";\nexport const b = a;`,
    };
    assert.equal(importCycles(viaReExport).length, 1);
    const mixed = {
      heap: `import { refill } from "./tiny-refill";`,
      "tiny-refill": `import { type Heap, K } from "./heap";`,
    };
    assert.equal(importCycles(mixed).length, 1, "one value name among type names is a value import");
    const typeOnly = {
      heap: `import { refill } from "./tiny-refill";\nexport class Heap {}`,
      "tiny-refill": `import type { Heap } from "./heap";\nimport { type Heap as H2 } from "./heap";\nexport type { Heap as H3 } from "./heap";`,
    };
    assert.deepEqual(importCycles(typeOnly), []);
  });
});
