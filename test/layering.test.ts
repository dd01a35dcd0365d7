/**
 * The layout's rule: imports run one way. machines/ at the bottom (pure statecharts and
 * their introspection), runtime/ above them (bytes and sockets), then the three peers that
 * use both (sim/, mbt/, diagrams/, peers/: none imports another), and the composition root on top
 * (cli/, scripts/, index.ts, bin/). Type-only imports count too, and no file may reach
 * itself through its imports (no circle).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Top-level folder → layer. Peers share a layer and may not import each other. */
const LAYERS: Readonly<Record<string, number>> = {
  machines: 0,
  runtime: 1,
  sim: 2,
  mbt: 2,
  diagrams: 2,
  peers: 2,
  cli: 3,
  scripts: 3,
  playground: 3,
  bin: 3,
  'index.ts': 3,
};

const TOP = 3;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs)$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Relative specifiers of every import, export-from and literal dynamic import, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm)].map((m) => m[2]!);
  return specs.map((s) => posix.normalize(posix.join(posix.dirname(file), s)).replace(/\.js$/, '.ts'));
}

const topOf = (file: string): string => file.split('/')[0]!;
const files = [...Object.keys(LAYERS).filter((k) => k.endsWith('.ts')), ...Object.keys(LAYERS).filter((k) => !k.endsWith('.ts')).flatMap(sourceFiles)];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('layering', () => {
  it('every import runs down, and peers (sim, mbt, diagrams, peers) do not import each other', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = topOf(file);
      for (const target of targets) {
        const to = topOf(target);
        if (to === from) continue;
        // The composition root's files may use each other (bin → cli, scripts → cli).
        const ok = to in LAYERS && (LAYERS[to]! < LAYERS[from]! || LAYERS[to] === TOP);
        if (!ok) violations.push(`${file} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no import circle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (!graph.has(t)) continue;
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('resolves every relative import to a file of the repository', () => {
    const missing = [...graph].flatMap(([f, ts]) => ts.filter((t) => !graph.has(t) && !t.startsWith('node_modules')).map((t) => `${f} → ${relative('.', t)}`));
    // Imports into test/ or outside the scanned folders would also show here.
    expect(missing).toEqual([]);
  });
});
