import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromPromise, setup } from 'xstate';
import { shortRfc, toMermaid } from '../../diagrams/mermaid.js';
import { DESCRIBE_OPTIONS } from '../../machines/introspect/catalog.js';
import { describeMachine } from '../../machines/introspect/model.js';
import { DEFAULT_TIMEOUTS } from '../../machines/policy.js';
import { receivingEntityMachine } from '../../machines/receiving/index.js';
import { deterministicIds, renderSvg, renderSvgs, sourceStamp } from '../../diagrams/render.js';
import { fixtureMachine } from './fixture-machine.js';

const full = toMermaid(fixtureMachine);
const lines = full.split('\n');

/** The lines between `state <id> {` and its closing brace. */
function block(text: string, id: string): string[] {
  const ls = text.split('\n');
  const start = ls.findIndex((l) => l.trim() === `state ${id} {`);
  expect(start, `block ${id}`).toBeGreaterThanOrEqual(0);
  const indent = ls[start]!.length - ls[start]!.trimStart().length;
  const end = ls.findIndex((l, i) => i > start && l.trim() === '}' && l.length - l.trimStart().length === indent);
  return ls.slice(start + 1, end);
}

const edgeLines = (text: string): string[] => text.split('\n').filter((l) => / --> /.test(l) && !l.includes('[*]'));

describe('describeMachine', () => {
  const model = describeMachine(fixtureMachine);

  it('lists every state in document order with parent, type, initial child and meta', () => {
    expect(model.states.map((s) => s.path)).toEqual([
      'connecting',
      'negotiating',
      'negotiating.tls',
      'negotiating.sasl',
      'negotiating.done',
      'open',
      'open.traffic',
      'open.traffic.idle-wait',
      'open.traffic.probing',
      'open.stanzas',
      'open.stanzas.ready',
      'closing',
      'closed',
    ]);
    expect(model.initial).toBe('connecting');
    const negotiating = model.states.find((s) => s.path === 'negotiating')!;
    expect(negotiating).toMatchObject({ type: 'compound', initial: 'tls', parent: '', rfc: '6120 §4.3', summary: 'stream features' });
    expect(model.states.find((s) => s.path === 'open')!.type).toBe('parallel');
    expect(model.states.find((s) => s.path === 'closed')!.type).toBe('final');
  });

  it('describes events, delays, guards, targets and actions of each transition', () => {
    const t = model.transitions;
    expect(t.find((x) => x.source === 'connecting' && x.kind === 'after')).toMatchObject({
      event: 'after idleTimeout = 30000 ms',
      delay: 'idleTimeout',
      delayMs: 30_000,
      targets: ['closed'],
      rfc: '6120 §4.6.3',
    });
    expect(t.find((x) => x.source === 'open.traffic.probing' && x.kind === 'after')).toMatchObject({ event: 'after 5000 ms', delay: 5000, delayMs: 5000 });
    expect(t.find((x) => x.source === 'negotiating' && x.kind === 'done')).toMatchObject({ event: 'done', targets: ['open'] });
    expect(t.find((x) => x.source === 'closing' && x.kind === 'always')).toMatchObject({ event: 'always', guard: 'tooManyAttempts' });
    const sasl = t.filter((x) => x.source === 'negotiating.sasl');
    expect(sasl.map((x) => x.guard)).toEqual(['elementOk', 'tooManyAttempts && !elementOk', undefined]);
    expect(sasl.map((x) => x.actions)).toEqual([[], ['emit closeSocket'], ['assign attempts']]);
    expect(sasl[2]!.targets).toEqual([]);
    expect(t.find((x) => x.source === 'open.traffic.idle-wait' && x.event === 'KEEPALIVE')).toMatchObject({ reenter: true, targets: ['open.traffic.idle-wait'] });
    expect(t.find((x) => x.source === '')).toMatchObject({ event: 'SOCKET_CLOSED', targets: ['closed'] });
  });
});

describe('toMermaid', () => {
  it('is a stateDiagram-v2 starting at the initial state, with valid ids and readable labels', () => {
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines).toContain('  [*] --> s_connecting');
    expect(full).toContain('state "idle-wait" as s_open__traffic__idle_wait');
    for (const m of full.matchAll(/ as (\S+)/g)) expect(m[1]).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
  });

  it('draws compound states as composite blocks with their own initial state', () => {
    const negotiating = block(full, 's_negotiating');
    expect(negotiating).toContain('    [*] --> s_negotiating__tls');
    expect(negotiating).toContain('    state "sasl" as s_negotiating__sasl');
    expect(negotiating).toContain('    s_negotiating__tls --> s_negotiating__sasl : ELEMENT [elementOk] (§5.4.3.3)');
  });

  it('separates the regions of a parallel state with --', () => {
    const open = block(full, 's_open').map((l) => l.trim());
    const divider = open.indexOf('--');
    expect(divider).toBeGreaterThan(open.indexOf('state s_open__traffic {'));
    expect(divider).toBeLessThan(open.indexOf('state s_open__stanzas {'));
    expect(block(full, 's_open__traffic')).toContain('      [*] --> s_open__traffic__idle_wait');
  });

  it('marks final states, at the top level and inside a compound state', () => {
    expect(lines).toContain('  s_closed --> [*]');
    expect(block(full, 's_negotiating')).toContain('    s_negotiating__done --> [*]');
  });

  it('labels delayed transitions with the delay name and its value, or milliseconds when it is a number', () => {
    expect(full).toContain('s_open__traffic__idle_wait --> s_open__traffic__probing : after idleTimeout = 30000 ms (§4.6.3)');
    // closeWait depends on context (attempts), so it has no single value to show.
    expect(full).toContain('s_closing --> s_closed : after closeWait (§4.4)');
    expect(full).toContain('s_open__traffic__probing --> s_closed : after 5000 ms (XEP-0199 §4.2)');
  });

  it('shows the default of a named delay read from the policy timeouts (machines/policy.ts DEFAULT_TIMEOUTS)', () => {
    const model = describeMachine(receivingEntityMachine, DESCRIBE_OPTIONS);
    const after = model.transitions.filter((t) => t.kind === 'after').map((t) => `${t.source}: ${t.event}`);
    expect(after).toContain(`open.negotiating: after negotiationTimeout = ${DEFAULT_TIMEOUTS.negotiation} ms`);
    expect(after).toContain(`open.established.liveness.idle: after idleTimeout = ${DEFAULT_TIMEOUTS.idle} ms`);
    expect(after).toContain(`open.established.liveness.pinging: after pingTimeout = ${DEFAULT_TIMEOUTS.pingResponse} ms`);
    expect(after).toContain(`closing: after closeTimeout = ${DEFAULT_TIMEOUTS.closeWait} ms`);
    expect(toMermaid(model)).toContain(`after negotiationTimeout = ${DEFAULT_TIMEOUTS.negotiation} ms [inTlsHandshake] (§5.4.3.1)`);
  });

  it('shows plain, negated and composed guards, always and done', () => {
    expect(full).toContain('s_negotiating__tls --> s_closed : ELEMENT [!tlsRequired] (§5.4.2.2)');
    expect(full).toContain('s_negotiating__sasl --> s_closed : ELEMENT [tooManyAttempts && !elementOk] (§6.4.5)');
    expect(full).toContain('s_closing --> s_closed : always [tooManyAttempts] (§4.4)');
    expect(full).toContain('s_negotiating --> s_open : done (§4.3.5)');
  });

  it('draws targetless and re-entering transitions as self-loops', () => {
    expect(full).toContain('s_open__stanzas__ready --> s_open__stanzas__ready : PING (§8.2.3)');
    expect(full).toContain('s_negotiating__sasl --> s_negotiating__sasl : ELEMENT (§6.5)');
    expect(full).toContain('s_open__traffic__idle_wait --> s_open__traffic__idle_wait : KEEPALIVE (§4.6.1)');
  });

  it('draws root transitions from an "(any state)" node', () => {
    expect(full).toContain('state "(any state)" as x_any');
    expect(full).toContain('x_any --> s_closed : SOCKET_CLOSED (§4.6.1)');
  });

  it('has exactly one edge per transition and target', () => {
    const model = describeMachine(fixtureMachine);
    const expected = model.transitions.reduce((n, t) => n + Math.max(1, t.targets.length), 0);
    expect(edgeLines(full)).toHaveLength(expected);
  });

  it('declares an edge inside a composite only when both ends are its direct children', () => {
    // Mermaid moves a state into the block that names it; cross-level edges stay at the top.
    expect(lines).toContain('  s_negotiating__sasl --> s_closed : ELEMENT [tooManyAttempts && !elementOk] (§6.4.5)');
    expect(block(full, 's_negotiating').join('\n')).not.toContain('s_closed');
  });

  it('is deterministic', () => {
    expect(toMermaid(fixtureMachine)).toBe(full);
    expect(toMermaid(describeMachine(fixtureMachine))).toBe(full);
  });

  it('writes a title and the layout engine as front matter', () => {
    const text = toMermaid(fixtureMachine, { title: 'Fixture: all features', layout: 'elk' });
    expect(text.split('\n').slice(0, 6)).toEqual(['---', 'title: "Fixture: all features"', 'config:', '  layout: elk', '---', 'stateDiagram-v2']);
  });

  it('folds deeper states into their ancestor in an overview, dropping moves inside a folded state', () => {
    const overview = toMermaid(fixtureMachine, { depth: 1 });
    expect(overview).not.toContain('{');
    expect(overview).toContain('s_negotiating --> s_closed : ELEMENT [!tlsRequired] (§5.4.2.2)');
    expect(overview).toContain('s_open --> s_closed : after 5000 ms (XEP-0199 §4.2)');
    expect(overview).not.toMatch(/s_negotiating --> s_negotiating /);
    expect(overview).not.toContain('s_negotiating__');
  });

  it('merges the transitions between two states into one edge when asked', () => {
    const merged = toMermaid(fixtureMachine, { depth: 1, merge: true });
    const closing = edgeLines(merged).filter((l) => l.trim().startsWith('s_closing --> s_closed'));
    expect(closing).toEqual(['  s_closing --> s_closed : STREAM_CLOSE (§4.4)<br/>after closeWait (§4.4)<br/>always [tooManyAttempts] (§4.4)']);
  });

  it('focuses on one state, with dashed stubs for the states it leaves to and is entered from', () => {
    const open = toMermaid(fixtureMachine, { focus: 'open' });
    expect(open).toContain('state s_open {');
    expect(open).not.toContain('s_negotiating__');
    expect(open).toContain('x_negotiating --> s_open : done (§4.3.5)');
    expect(open).toContain('s_open --> x_closing : CLOSE (§4.4)');
    expect(open).toContain('state "↗ closed" as x_closed');
    expect(open).toMatch(/class x_negotiating,x_closing,x_closed external/);
    expect(() => toMermaid(fixtureMachine, { focus: 'nowhere' })).toThrow(/no state 'nowhere'/);
  });

  it('is accepted by Mermaid: the rendered SVG shows the states and labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xmppkit-mmd-'));
    writeFileSync(join(dir, 'fixture.mmd'), toMermaid(fixtureMachine, { title: 'fixture', layout: 'elk' }));
    await renderSvg(join(dir, 'fixture.mmd'), join(dir, 'fixture.svg'), { svgId: 'fixture' });
    const svg = readFileSync(join(dir, 'fixture.svg'), 'utf8');
    expect(svg).toMatch(/^<svg id="fixture"/);
    for (const text of ['idle-wait', 'probing', 'after idleTimeout = 30000 ms (§4.6.3)', 'ELEMENT [tooManyAttempts &amp;&amp; !elementOk] (§6.4.5)']) {
      expect(svg).toContain(text);
    }
  });

  it('renders the same bytes for the same source: random region ids numbered, the source hash stamped', async () => {
    expect(deterministicIds('<g id="x-state-id-6uoezrf0c4w-1-2"/><use href="#x-state-id-6uoezrf0c4w-1-2"/><g id="x-state-id-0k2-3-4"/>')).toBe(
      '<g id="x-state-id-r1-1-2"/><use href="#x-state-id-r1-1-2"/><g id="x-state-id-r2-3-4"/>',
    );
    const dir = mkdtempSync(join(tmpdir(), 'xmppkit-mmd-'));
    const source = toMermaid(fixtureMachine, { title: 'fixture', layout: 'elk' });
    writeFileSync(join(dir, 'fixture.mmd'), source);
    await renderSvgs([
      { mmd: join(dir, 'fixture.mmd'), svg: join(dir, 'a.svg'), svgId: 'fixture' },
      { mmd: join(dir, 'fixture.mmd'), svg: join(dir, 'b.svg'), svgId: 'fixture' },
    ]);
    const a = readFileSync(join(dir, 'a.svg'), 'utf8');
    expect(a).toBe(readFileSync(join(dir, 'b.svg'), 'utf8'));
    expect(a.trimEnd().endsWith(sourceStamp(source))).toBe(true);
  });

  it('shows invoked actors on their state and their done/error events on the edges', () => {
    const invoking = setup({ actors: { lookup: fromPromise(async () => 1) } }).createMachine({
      id: 'inv',
      initial: 'waiting',
      states: {
        waiting: {
          meta: { rfc: '6120 §6.3.7' },
          invoke: { src: 'lookup', id: 'store', onDone: { target: 'done', meta: { rfc: '6120 §6.4.3' } }, onError: { target: 'done', meta: { rfc: '6120 §6.5.11' } } },
        },
        done: { type: 'final' },
      },
    });
    const model = describeMachine(invoking);
    expect(model.states.find((s) => s.path === 'waiting')!.invokes).toEqual(['lookup']);
    const text = toMermaid(model);
    expect(text).toContain('s_waiting : invoke lookup');
    expect(text).toContain('s_waiting --> s_done : done(store) (§6.4.3)');
    expect(text).toContain('s_waiting --> s_done : error(store) (§6.5.11)');
  });

  it('shortens long citations: RFC 6120 is implied and runs of sibling sections become ranges', () => {
    expect(shortRfc('6120 §4.4')).toBe('§4.4');
    expect(shortRfc('6120 §6.4.5, §6.5.1, §6.5.2, §6.5.3, §6.5.4, §13.9.4')).toBe('§6.4.5, §6.5.1–4, §13.9.4');
    expect(shortRfc('6120 §6.5.1, §6.5.2, §7.1')).toBe('§6.5.1, §6.5.2, §7.1');
    expect(shortRfc('XEP-0199 §4.2')).toBe('XEP-0199 §4.2');
  });
});
