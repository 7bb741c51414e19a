// The shape the code keeps (../shared/STYLE.md): no function in src/ over 80 lines, none in
// src/workflows/ over 40, and no import cycles. Read with the TypeScript compiler's own parser.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../../src');
const MAX_LINES = 80;
const MAX_WORKFLOW_LINES = 40;

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? sourceFiles(path.join(dir, e.name))
        : e.name.endsWith('.ts')
          ? [path.join(dir, e.name)]
          : [],
    );
}

const parse = (file: string) =>
  ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);

/** Every function-like node with a body: its name and how many lines it spans. */
export function functionLengths(file: string): { name: string; lines: number }[] {
  const source = parse(file);
  const found: { name: string; lines: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const named = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
      const owner =
        named ??
        (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)
          ? node.parent.name.text
          : ts.isPropertyAssignment(node.parent) && ts.isIdentifier(node.parent.name)
            ? node.parent.name.text
            : '(anonymous)');
      found.push({ name: owner, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The project files a file imports (relative imports, type-only ones included). */
function importsOf(file: string): string[] {
  const source = parse(file);
  const targets: string[] = [];
  for (const stmt of source.statements) {
    const spec =
      (ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) &&
      stmt.moduleSpecifier &&
      ts.isStringLiteral(stmt.moduleSpecifier)
        ? stmt.moduleSpecifier.text
        : undefined;
    if (!spec?.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), spec);
    const resolved = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
    if (resolved) targets.push(resolved);
  }
  return targets;
}

/** Import cycles among `files`, each as the list of files around it. */
export function importCycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') cycles.push(stack.slice(stack.indexOf(g)));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return cycles;
}

describe('code shape', () => {
  const files = sourceFiles(SRC);
  const rel = (f: string) => path.relative(SRC, f);

  it(`has no function in src/ over ${MAX_LINES} lines, none in src/workflows/ over ${MAX_WORKFLOW_LINES}`, () => {
    const tooLong = files.flatMap((f) => {
      const max = rel(f).startsWith(`workflows${path.sep}`) ? MAX_WORKFLOW_LINES : MAX_LINES;
      return functionLengths(f)
        .filter((fn) => fn.lines > max)
        .map((fn) => `${rel(f)}: ${fn.name} has ${fn.lines} lines (at most ${max})`);
    });
    assert.deepEqual(tooLong, []);
  });

  it('has no import cycles in src/', () => {
    assert.deepEqual(
      importCycles(files).map((c) => c.map(rel).join(' → ')),
      [],
    );
  });
});
