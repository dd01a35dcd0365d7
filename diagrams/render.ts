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

/** Renders one Mermaid file to SVG. */
export async function renderSvg(mmdPath: string, svgPath: string, opts: RenderOptions = {}): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`render: no chromium at ${CHROMIUM} (install Debian's chromium, see scripts/setup.sh)`);
  process.env.PUPPETEER_SKIP_DOWNLOAD = '1';
  const { run } = await import('@mermaid-js/mermaid-cli');
  await run(mmdPath, svgPath as `${string}.svg`, {
    quiet: true,
    outputFormat: 'svg',
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
