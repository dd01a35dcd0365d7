/**
 * Builds docs/playground/ from the machines: the stream machines, the simulator and the page
 * code bundled by esbuild into one classic script (so it runs from a file:// URL), with the
 * cited RFC 6120 sections and the machines' Mermaid SVGs (docs/diagrams/) as data. Nothing is
 * fetched at run time. Deterministic: fixed esbuild options, sorted data, no timestamps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { initiatingEntityMachine } from '../machines/initiating/index.js';
import { receivingEntityMachine } from '../machines/receiving/index.js';
import { citedSections } from './rfc-sections.js';
import { pageHtml } from './page-html.js';
import { VIEWS, type PlaygroundData } from './data.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PLAYGROUND_DIR = join(ROOT, 'docs', 'playground');
const DIAGRAMS = join(ROOT, 'docs', 'diagrams');
const SHIMS = join(ROOT, 'playground', 'shims');

/** The data the page reads (virtual module `playground:data`). */
export function playgroundData(): PlaygroundData {
  const svg = (stem: string): string => {
    const path = join(DIAGRAMS, `${stem}.svg`);
    if (!existsSync(path)) throw new Error(`build-playground: ${path} is missing: run \`npm run docs\` first`);
    return readFileSync(path, 'utf8');
  };
  const diagrams = (machine: string): Record<string, string> => Object.fromEntries(VIEWS.map((v) => [v, svg(`${machine}.${v}`)]));
  return {
    sections: citedSections([receivingEntityMachine, initiatingEntityMachine], readFileSync(join(ROOT, 'spec', 'rfc6120.txt'), 'utf8')),
    diagrams: { client: diagrams('initiating-entity'), server: diagrams('receiving-entity') },
  };
}

const dataPlugin = (data: PlaygroundData): Plugin => ({
  name: 'playground-data',
  setup(b) {
    b.onResolve({ filter: /^playground:data$/ }, () => ({ path: 'data', namespace: 'playground-data' }));
    b.onLoad({ filter: /.*/, namespace: 'playground-data' }, () => ({ contents: JSON.stringify(data), loader: 'json' }));
  },
});

/** The files of docs/playground/ by name, as a fresh build makes them (what the staleness test compares). */
export async function buildPlayground(): Promise<Map<string, string>> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['playground/main.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
    // The machines import a little of Node; the browser gets the shims, the library stays as it is.
    alias: {
      'node:crypto': join(SHIMS, 'crypto.ts'),
      'node:url': join(SHIMS, 'url.ts'),
      'node:buffer': join(SHIMS, 'node-buffer.ts'),
    },
    inject: [join(SHIMS, 'buffer-global.ts')],
    plugins: [dataPlugin(playgroundData())],
  });
  const js = result.outputFiles[0]!.text;
  return new Map([
    ['index.html', pageHtml()],
    ['playground.js', js],
  ]);
}

export async function writePlayground(log: (line: string) => void = () => {}): Promise<string[]> {
  await mkdir(PLAYGROUND_DIR, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of await buildPlayground()) {
    const path = join(PLAYGROUND_DIR, name);
    await writeFile(path, text);
    written.push(path);
    log(`wrote docs/playground/${name} (${Math.round(Buffer.byteLength(text) / 1024)} KiB)`);
  }
  return written;
}
