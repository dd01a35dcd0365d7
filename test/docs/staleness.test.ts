/**
 * docs/ is generated from the machines, the test titles and the runtime's comments. These
 * tests fail when the committed files no longer match what the generator makes now.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIAGRAMS_DIR, PAGE_FILE, PROJECT_ROOT, diagramSources, expectedSources, pageText } from '../../cli/generate-docs.js';
import { sourceStamp } from '../../diagrams/render.js';
import { loadMachines, MACHINES, type LoadedMachine } from '../../machines/introspect/catalog.js';
import { collectConformance } from '../../diagrams/report.js';
import { buildPlayground, PLAYGROUND_DIR } from '../../playground/build.js';

const REGENERATE = 'is out of date: run `npm run docs` (or `npx tsx scripts/gen-docs.ts`) and commit docs/';

let machines: LoadedMachine[];
let expected: Map<string, string>;

beforeAll(async () => {
  machines = await loadMachines();
  expected = expectedSources(machines, collectConformance({ root: PROJECT_ROOT, machines }));
});

describe('generated documentation in docs/', () => {
  it('documents every machine of the registry', () => {
    expect(machines.map((m) => m.name)).toEqual(MACHINES.map((m) => m.name));
    for (const m of MACHINES) expect([...expected.keys()]).toContain(`docs/diagrams/${m.name}.mmd`);
  });

  it('has Mermaid sources and the conformance report exactly as generated from the current code', () => {
    for (const [file, text] of expected) {
      const path = join(PROJECT_ROOT, file);
      expect(existsSync(path), `${file} is missing: run \`npm run docs\``).toBe(true);
      expect(readFileSync(path, 'utf8') === text, `${file} ${REGENERATE}`).toBe(true);
    }
  });

  it('has no diagrams left over from machines or states that are gone', () => {
    expect(existsSync(DIAGRAMS_DIR), 'docs/diagrams is missing: run `npm run docs`').toBe(true);
    const stems = new Set(diagramSources(machines).map((d) => d.stem));
    const stale = readdirSync(DIAGRAMS_DIR).filter((f) => /\.(mmd|svg)$/.test(f) && !stems.has(f.replace(/\.(mmd|svg)$/, '')));
    expect(stale, `docs/diagrams ${REGENERATE}`).toEqual([]);
  });

  it('has an SVG for every diagram, rendered from the current Mermaid source', () => {
    // Not compared byte for byte (chromium's text metrics vary between machines): the SVG
    // carries the hash of the .mmd it was drawn from, and that must be today's source.
    for (const d of diagramSources(machines)) {
      const svg = join(DIAGRAMS_DIR, `${d.stem}.svg`);
      expect(existsSync(svg), `docs/diagrams/${d.stem}.svg is missing: run \`npm run docs\``).toBe(true);
      const text = readFileSync(svg, 'utf8');
      expect(text).toMatch(/^<svg[^>]* id="svg-/);
      expect(text.includes(sourceStamp(d.mermaid)), `docs/diagrams/${d.stem}.svg was drawn from an older source: ${REGENERATE}`).toBe(true);
    }
  });

  it('has the page exactly as generated from the machines, the SVGs and the conformance data', () => {
    expect(existsSync(PAGE_FILE), 'docs/index.html is missing: run `npm run docs`').toBe(true);
    expect(readFileSync(PAGE_FILE, 'utf8') === pageText(machines), `docs/index.html ${REGENERATE}`).toBe(true);
  });

  it('has the playground bundle and page exactly as a fresh build makes them from the machines and diagrams', async () => {
    for (const [name, text] of await buildPlayground()) {
      const path = join(PLAYGROUND_DIR, name);
      expect(existsSync(path), `docs/playground/${name} is missing: run \`npx tsx scripts/build-playground.ts\``).toBe(true);
      expect(readFileSync(path, 'utf8') === text, `docs/playground/${name} ${REGENERATE}`).toBe(true);
    }
  });
});
