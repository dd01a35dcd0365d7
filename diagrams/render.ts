/**
 * `.mmd` → `.svg` with @mermaid-js/mermaid-cli, driving Debian's chromium (the CLI's own
 * browser download is disabled on these machines). One browser per file keeps this simple;
 * a machine has a handful of diagrams, so the launch cost does not matter.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless chromium flags: no sandbox (root in a container), nothing that reaches the network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export interface RenderOptions {
  /** The id of the rendered `<svg>` element; pages that inline several SVGs need distinct ids. */
  readonly svgId?: string;
}

export interface RenderJob extends RenderOptions {
  readonly mmd: string;
  readonly svg: string;
}

/** Headless chromium for mermaid-cli, launched once for many diagrams. */
async function launch(): Promise<{ browser: unknown; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`render: no chromium at ${CHROMIUM} (install Debian's chromium, see scripts/setup.sh)`);
  process.env.PUPPETEER_SKIP_DOWNLOAD = '1';
  const specifier: string = 'puppeteer';
  const puppeteer = (await import(specifier)) as { default: { launch(o: unknown): Promise<{ close(): Promise<void> }> } };
  const browser = await puppeteer.default.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], headless: true });
  return { browser, close: () => browser.close() };
}

/**
 * Renders many Mermaid files in one browser, a few pages at a time: launching chromium per
 * diagram cost most of the time of `npm run docs`.
 */
export async function renderSvgs(jobs: readonly RenderJob[], concurrency = 3): Promise<void> {
  if (jobs.length === 0) return;
  const { browser, close } = await launch();
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        await renderSvg(job.mmd, job.svg, { ...job, browser });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  } finally {
    await close();
  }
}

/** Renders one Mermaid file to SVG (in `browser` when given, else in a chromium of its own). */
export async function renderSvg(mmdPath: string, svgPath: string, opts: RenderOptions & { browser?: unknown } = {}): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`render: no chromium at ${CHROMIUM} (install Debian's chromium, see scripts/setup.sh)`);
  process.env.PUPPETEER_SKIP_DOWNLOAD = '1';
  const { run } = await import('@mermaid-js/mermaid-cli');
  await run(mmdPath, svgPath as `${string}.svg`, {
    quiet: true,
    outputFormat: 'svg',
    ...(opts.browser !== undefined ? { browser: opts.browser as never } : {}),
    puppeteerConfig: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], headless: true },
    parseMMDOptions: {
      backgroundColor: 'white',
      ...(opts.svgId !== undefined && { svgId: opts.svgId }),
      mermaidConfig: { theme: 'default', state: { useMaxWidth: false } } as never,
    },
  });
  // The CLI writes the SVG as produced; make its ids deterministic, stamp the source it was drawn from, end with a newline.
  const svg = deterministicIds((await readFile(svgPath, 'utf8')).trimEnd());
  await writeFile(svgPath, `${svg}\n${sourceStamp(await readFile(mmdPath, 'utf8'))}\n`);
}

/**
 * Mermaid names the dividers of parallel regions with random ids (`…-state-id-6uoezrf0c4w-1-2`);
 * numbered in order of appearance instead, the same source renders to the same bytes.
 */
export function deterministicIds(svg: string): string {
  const seen = new Map<string, string>();
  return svg.replace(/state-id-([a-z0-9]+)-/g, (_, token: string) => {
    if (!seen.has(token)) seen.set(token, `r${seen.size + 1}`);
    return `state-id-${seen.get(token)!}-`;
  });
}

/** `<!-- mermaid-source sha256:… -->`: which Mermaid text an SVG was drawn from (after the root element, so the SVG stays valid). */
export function sourceStamp(mermaid: string): string {
  return `<!-- mermaid-source sha256:${createHash('sha256').update(mermaid).digest('hex')} -->`;
}
