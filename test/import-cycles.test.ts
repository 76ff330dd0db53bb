// No circular imports between modules of src/ and web/src: a cycle makes load order matter (a
// class read before its module ran is undefined) and lets layers erode. Follows every relative
// import that exists at run time (`import type` and `export type` are erased, so they cannot).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'/g)) {
    const target = resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'));
    found.push(target);
  }
  return found;
}

/** Every cycle's modules (relative paths), found by depth-first search with colours. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const files = [...graph.keys()];
  const colour = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (f: string): void => {
    colour.set(f, 'grey');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (colour.get(t) === 'grey') found.push(stack.slice(stack.indexOf(t)).map((x) => relative(root, x)));
      else if (colour.get(t) === undefined) visit(t);
    }
    stack.pop();
    colour.set(f, 'black');
  };
  for (const f of files) if (colour.get(f) === undefined) visit(f);
  return found;
}

describe('imports', () => {
  it('form no cycle in src/ or web/src/', () => {
    const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'web', 'src'))];
    expect(files.length).toBeGreaterThan(100);
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
    expect(cycles(graph)).toEqual([]);
  });

  it('would see one (the check can fail)', () => {
    const graph = new Map([[join(root, 'a.ts'), [join(root, 'b.ts')]], [join(root, 'b.ts'), [join(root, 'a.ts')]]]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts']]);
  });
});
