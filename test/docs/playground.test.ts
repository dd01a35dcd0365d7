/**
 * docs/playground/ in a real browser: chromium opens the committed page from disk (file://),
 * a learner's runs are played through its buttons and keyboard, and nothing but file: URLs
 * is ever requested. Screenshots go to docs/playground/screenshots/ (the README shows one).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from '../../diagrams/render.js';
import { PLAYGROUND_DIR } from '../../playground/build.js';
import { DEFAULT_CHOICES, scenarioOf } from '../../playground/choices.js';
import { runScenario } from '../../sim/run.js';
import { traceOf } from '../../sim/trace.js';

const PAGE = pathToFileURL(join(PLAYGROUND_DIR, 'index.html')).href;
const SCREENSHOTS = join(PLAYGROUND_DIR, 'screenshots');

let browser: Browser;
let page: Page;
const requests: string[] = [];
const errors: string[] = [];
let scratch: string;

async function open(url = PAGE): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  p.on('request', (r) => requests.push(r.url()));
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(url);
  return p;
}

const stateOf = (side: 'client' | 'server'): Promise<string> => page.locator(`#${side}-state`).getAttribute('data-state').then((s) => s ?? '');
const serverState = (): Promise<string> => stateOf('server');
const wireText = (): Promise<string> => page.locator('#wire').innerText();

/** "Run to next state" until that side's state matches, at most `max` times. */
async function nextUntil(pattern: RegExp, side: 'client' | 'server' = 'server', max = 60): Promise<void> {
  for (let i = 0; i < max && !pattern.test(await stateOf(side)); i++) await page.click('#next');
  expect(await stateOf(side)).toMatch(pattern);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'xmppkit-playground-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], headless: true });
  page = await open();
});

afterAll(async () => {
  await browser?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('docs/playground in chromium', { timeout: 60_000 }, () => {
  it('runs a SCRAM session to established and a clean close (§4.4), showing each transition with its RFC text', async () => {
    await nextUntil(/saslNegotiation\.challengeSent/);
    // Mid-negotiation: the server has sent its SCRAM challenge (§6.4.3), quoted beside it.
    await expect(page.locator('#taken blockquote[data-section="6.4.3"]').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#server-diagram g.node.pg-active').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'negotiating.png') });
    await nextUntil(/open\.established/);
    await nextUntil(/open\.established/, 'client');
    expect(await wireText()).toContain("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
    await page.click('#end');
    await expect(page.locator('#outcome').innerText()).resolves.toBe('client: closed (6120 §4.4) · server: closed (6120 §4.4)');
    const wire = page.locator('#wire .seg');
    await expect(wire.last().innerText()).resolves.toContain('</stream:stream>');
    await page.screenshot({ path: join(SCREENSHOTS, 'closed.png') });
  });

  it('shows the raw bytes of an element on click', async () => {
    const first = page.locator('#wire button.xml').first();
    await first.click();
    await expect(first.getAttribute('aria-expanded')).resolves.toBe('true');
    await expect(page.locator('#raw-0').innerText()).resolves.toMatch(/^\d+ bytes: "<\?xml version='1.0'\?><stream:stream[\s\S]*\n3c 3f 78 6d 6c/);
  });

  it('answers an injected XML comment with <restricted-xml/> (§4.9.3.18, §11.1) on the wire and in the server machine', async () => {
    await page.click('#restart');
    await nextUntil(/tlsNegotiation\.featuresSent/);
    await page.click('#faults button[data-fault="xml-comment"]');
    await expect(page.locator('#wire .seg.injected').innerText()).resolves.toContain('<!-- a comment -->');
    await page.click('#end');
    expect(await wireText()).toContain("<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(await serverState()).toBe('closed');
    await expect(page.locator('#outcome').innerText()).resolves.toContain('server: error-sent <restricted-xml/> (6120 §4.9.3.18)');
  });

  it('undoes a step by re-running to the step before, and shares the run as a URL', async () => {
    await page.click('#restart');
    for (let i = 0; i < 6; i++) await page.click('#step');
    const atFive = { clock: '', wire: 0 };
    await page.click('#undo');
    atFive.clock = await page.locator('#clock').innerText();
    atFive.wire = await page.locator('#wire .seg').count();
    expect(atFive.clock).toMatch(/step 5$/);
    await page.click('#faults button[data-fault="cut"]');
    const url = page.url();
    expect(url).toMatch(/#seed=1&.*f=6%3Acut.*&step=6/);
    const clock = await page.locator('#clock').innerText();
    const shared = await open(url);
    await expect(shared.locator('#clock').innerText()).resolves.toBe(clock);
    await expect(shared.locator('#wire .seg').count()).resolves.toBe(atFive.wire);
    if (await shared.locator('#end').isEnabled()) await shared.click('#end');
    await expect(shared.locator('#outcome').innerText()).resolves.toContain('server: transport (6120 §4.6.1)');
    await shared.close();
  });

  it('replays a saved simulator trace (sim/trace.ts) and finds it identical', async () => {
    const { world, violations } = runScenario(scenarioOf({ ...DEFAULT_CHOICES, seed: 7, mechanism: 'SCRAM-SHA-1', resource: '' }));
    const file = join(scratch, 'trace.json');
    writeFileSync(file, JSON.stringify(traceOf(world, violations)));
    await page.setInputFiles('#trace', file);
    await page.waitForFunction("document.getElementById('mode')?.textContent?.startsWith('Replaying')");
    await expect(page.locator('#mode').innerText()).resolves.toContain('Replaying trace "playground" (seed 7)');
    await page.click('#end');
    await expect(page.locator('#mode').innerText()).resolves.toContain(`replay identical to the trace: ${world.links[0]!.segments.length} segments`);
    expect(await wireText()).toContain("mechanism='SCRAM-SHA-1'");
    await page.click('#restart');
  });

  it('is operable by keyboard: every control is reached with Tab and works with Enter and Space', async () => {
    const p = await open();
    // Page code as text: the test is compiled without the DOM library.
    const focused = (): Promise<string> => p.evaluate<string>("document.activeElement?.id ?? ''");
    for (let i = 0; i < 5 && (await focused()) !== 'step'; i++) await p.keyboard.press('Tab');
    expect(await focused()).toBe('step');
    await p.keyboard.press('Enter');
    const reached = new Set<string>(['step']);
    for (let i = 0; i < 40; i++) {
      await p.keyboard.press('Tab');
      const id = await p.evaluate<string>("(el => el?.id || el?.dataset.fault || el?.getAttribute('name') || el?.tagName || '')(document.activeElement)");
      reached.add(id);
    }
    for (const id of ['step', 'next', 'end', 'undo', 'restart', 'share', 'trace', 'apply', 'garbage', 'xml-comment', 'silence', 'cut', 'clientTls', 'mechanism']) expect(reached, id).toContain(id);
    await p.focus('#step');
    await p.keyboard.press('Space');
    await expect(p.locator('#clock').innerText()).resolves.toMatch(/step 2$/);
    await p.focus('#next');
    await p.keyboard.press('Enter');
    await expect(p.locator('#server-state').getAttribute('data-state')).resolves.toBe('open.negotiating.tlsNegotiation.featuresSent');
    // A silent link during negotiation: the server's negotiation timer fires (§4.6.2, §4.9.3.4).
    await p.focus('#faults button[data-fault="silence"]');
    await p.keyboard.press('Enter');
    await p.focus('#end');
    await p.keyboard.press('Enter');
    await expect(p.locator('#outcome').innerText()).resolves.toContain('server: timeout <connection-timeout/> (6120 §4.9.3.4)');
    await expect(p.locator('#clock').innerText()).resolves.toMatch(/^t = 70001 ms/);
    await p.screenshot({ path: join(SCREENSHOTS, 'silence.png') });
    await p.close();
  });

  it('fails a wrong password with <not-authorized/> (§6.4.5) and the client gives up', async () => {
    const p = await open();
    await p.click('#faults button[data-fault="wrong-password"]');
    await p.click('#end');
    expect(await p.locator('#wire').innerText()).toContain('<not-authorized/>');
    await expect(p.locator('#outcome').innerText()).resolves.toBe('client: auth-failed <not-authorized/> (6120 §6.4.5) · server: closed (6120 §4.4)');
    await p.close();
  });

  it('made no request but for its own files, and threw nothing', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
