/**
 * docs/index.html as a person sees it: headless chromium opens it from disk (file://, no
 * server, no network) and the test looks for every machine, state and checklist feature,
 * and for a drawn diagram per machine. A screenshot is left in the temp folder to look at.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFeatureTable } from '../../diagrams/conformance.js';
import { PAGE_FILE, PROJECT_ROOT } from '../../cli/generate-docs.js';
import { DESCRIBE_OPTIONS, loadMachines, type LoadedMachine } from '../../machines/introspect/catalog.js';
import { describeMachine } from '../../machines/introspect/model.js';
import { CHROMIUM } from '../../diagrams/render.js';
import { defaultChecklistPath } from '../../diagrams/report.js';

export const SCREENSHOT = join(tmpdir(), 'xmppkit-docs-page.png');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let profile: string;
let context: BrowserContext;
let page: Page;
let machines: LoadedMachine[];
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(PAGE_FILE)) throw new Error('docs/index.html is missing: run `npm run docs`');
  machines = await loadMachines();
  profile = mkdtempSync(join(tmpdir(), 'xmppkit-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1300, height: 1000 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(PAGE_FILE).href);
});

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('docs/index.html in chromium', () => {
  it('loads from disk without fetching anything else', () => {
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
  });

  it('has a section per machine with at least one drawn diagram', async () => {
    for (const m of machines) {
      const section = page.locator(`section[data-machine="${m.name}"]`);
      await expect(section.count()).resolves.toBe(1);
      const svgs = section.locator('figure.diagram svg');
      const n = await svgs.count();
      expect(n, `${m.name}: no <svg>`).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) {
        const box = await svgs.nth(i).boundingBox();
        expect(box !== null && box.width > 0 && box.height > 0, `${m.name}: svg ${i} has no size`).toBe(true);
      }
      expect(await section.locator('figure.diagram').first().textContent()).not.toMatch(/Syntax error/i);
    }
  });

  it('lists every state of every machine, and draws every state in its full diagram', async () => {
    for (const m of machines) {
      const section = page.locator(`section[data-machine="${m.name}"]`);
      const fullDiagram = (await section.locator('figure.diagram svg').first().textContent()) ?? '';
      for (const s of describeMachine(m.machine, DESCRIBE_OPTIONS).states) {
        await expect(section.locator(`.state[data-state="${s.path}"] .state-name`).textContent()).resolves.toBe(s.path);
        expect(fullDiagram, `${m.name}: ${s.path} not drawn`).toContain(s.key);
      }
    }
  });

  it('shows every feature of the checklist in the conformance table', async () => {
    const features = parseFeatureTable(readFileSync(defaultChecklistPath(PROJECT_ROOT), 'utf8'));
    expect(features.length).toBeGreaterThan(50);
    for (const f of features) {
      const row = page.locator(`#conformance tr[data-feature="${f.name}"]`);
      await expect(row.count(), f.name).resolves.toBe(1);
      await expect(row.locator('td').nth(2).textContent()).resolves.toBe(f.section);
    }
  });

  it('filters states and rows by the text typed in the filter box', async () => {
    const first = machines[0]!;
    const visible = page.locator(`section[data-machine="${first.name}"] .state:not(.hidden)`);
    const before = await visible.count();
    await page.fill('#filter', 'closing');
    const after = await visible.count();
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThan(before);
    await page.fill('#filter', '');
    await expect(visible.count()).resolves.toBe(before);
  });

  it('looks like a page: screenshot for a person to check', async () => {
    await page.screenshot({ path: SCREENSHOT });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
  });
});
