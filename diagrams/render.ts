/**
 * `.mmd` → `.svg` with @mermaid-js/mermaid-cli, driving Debian's chromium (the CLI's own
 * browser download is disabled on these machines). One browser per file keeps this simple;
 * a machine has a handful of diagrams, so the launch cost does not matter.
 */
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
  // The CLI writes the SVG as produced; make sure it ends with a newline for tidy diffs.
  const svg = await readFile(svgPath, 'utf8');
  if (!svg.endsWith('\n')) await writeFile(svgPath, `${svg}\n`);
}
