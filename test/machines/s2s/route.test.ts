/**
 * The outgoing route to a remote domain (machines/s2s/route): every transition on a simulated
 * clock, checked by the state it reaches and the commands it emits, in order; and the bounce
 * stanzas it leads to (bounce.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STANZA_ERROR_CONDITIONS } from '../../../machines/conditions.js';
import { describeMachine } from '../../../machines/introspect/model.js';
import { DESCRIBE_OPTIONS, MACHINES } from '../../../machines/introspect/catalog.js';
import { citations, rfc6120Sections } from '../../../machines/introspect/sections.js';
import { NS } from '../../../machines/ns.js';
import { bounceStanza, resolveRoutePolicy, s2sRouteMachine, type RouteCommand } from '../../../machines/s2s/route/index.js';
import { el } from '../../../machines/xml.js';
import { authenticated, LOCAL, message, REMOTE, route } from './route-harness.js';

const CONNECT: RouteCommand = { type: 'connect', local: LOCAL, remote: REMOTE };
const write = (n: number): RouteCommand => ({ type: 'write', stanza: message(n) });
const bounce = (n: number, condition: string, text: string): RouteCommand => ({ type: 'bounce', stanza: message(n), condition, text } as RouteCommand);
/** Section numbers with a heading in spec/rfc6120.txt ('10.4.3.  Error Handling'). */
const HEADINGS = new Set([...readFileSync(new URL('../../../spec/rfc6120.txt', import.meta.url), 'utf8').matchAll(/^(\d+(?:\.\d+)*)\.\s{2}\S/gm)].map((m) => m[1]!));
const NOT_FOUND = { type: 'FAILED', condition: 'remote-server-not-found', reason: 'no SRV, A or AAAA record' } as const;

describe('queue while the stream negotiates, flush once authenticated (6120 §10.4.2)', () => {
  it('6120 §10.4.2: the first stanza connects; stanzas wait while resolving and negotiating', () => {
    const r = route();
    expect(r.state).toBe('idle');
    expect(r.step({ type: 'SEND', stanza: message(1) })).toEqual([CONNECT]);
    expect(r.state).toBe('connecting.resolving');
    expect(r.step({ type: 'SEND', stanza: message(2) })).toEqual([]);
    expect(r.step({ type: 'CONNECTED' })).toEqual([]);
    expect(r.state).toBe('connecting.negotiating');
    expect(r.step({ type: 'SEND', stanza: message(3) })).toEqual([]);
    expect(r.queued).toBe(3);
  });

  it('6120 §4.3.5, §10.1: AUTHENTICATED writes the queue in the order it came, then SEND writes at once', () => {
    const r = route();
    for (const n of [1, 2, 3]) r.step({ type: 'SEND', stanza: message(n) });
    r.step({ type: 'CONNECTED' });
    expect(r.step({ type: 'AUTHENTICATED' })).toEqual([write(1), write(2), write(3)]);
    expect(r.state).toBe('authenticated');
    expect(r.queued).toBe(0);
    expect(r.step({ type: 'SEND', stanza: message(4) })).toEqual([write(4)]);
  });

  it('6120 §4.3.5: AUTHENTICATED before the connection is up is not believed: nothing is written', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    expect(r.step({ type: 'AUTHENTICATED' })).toEqual([]);
    expect(r.state).toBe('connecting.resolving');
  });

  it('6120 §8.3.3.18: past maxQueued a stanza is bounced at once with <resource-constraint/>, the queue kept', () => {
    const r = route();
    for (const n of [1, 2, 3]) r.step({ type: 'SEND', stanza: message(n) });
    expect(r.step({ type: 'SEND', stanza: message(4) })).toEqual([bounce(4, 'resource-constraint', 'too many stanzas wait for the stream to this domain')]);
    r.step({ type: 'CONNECTED' });
    expect(r.step({ type: 'AUTHENTICATED' })).toEqual([write(1), write(2), write(3)]);
  });

  it('6120 §8.3.3.18: even an input with no room at all loses nothing (resolveRoutePolicy refuses it)', () => {
    const r = route({ maxQueued: 0 });
    expect(r.step({ type: 'SEND', stanza: message(1) })).toEqual([bounce(1, 'resource-constraint', 'too many stanzas wait for the stream to this domain')]);
    expect(r.state).toBe('idle');
    expect(() => resolveRoutePolicy({ maxQueued: 0 })).toThrow(/maxQueued must be an integer >= 1/);
    expect(() => resolveRoutePolicy({ timeouts: { connect: -1 } })).toThrow(/timeout 'connect'/);
  });
});

describe('failures bounce every queued stanza once (6120 §10.4.3)', () => {
  it('6120 §8.3.3.16: resolution failed: each queued stanza bounced with <remote-server-not-found/>, then a back-off', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step({ type: 'SEND', stanza: message(2) });
    expect(r.step(NOT_FOUND)).toEqual([
      bounce(1, 'remote-server-not-found', 'no SRV, A or AAAA record'),
      bounce(2, 'remote-server-not-found', 'no SRV, A or AAAA record'),
      { type: 'backingOff', attempt: 1, delayMs: 250, condition: 'remote-server-not-found', reason: 'no SRV, A or AAAA record' }, // 100 + 0.5 · (400 - 100)
    ]);
    expect(r.state).toBe('waiting');
    expect(r.queued).toBe(0);
  });

  it('6120 §10.4.3: past CONNECTED the domain was resolved: a failure is <remote-server-timeout/>, whatever was reported', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step({ type: 'CONNECTED' });
    expect(r.step({ ...NOT_FOUND, reason: 'TLS handshake failed' })[0]).toEqual(bounce(1, 'remote-server-timeout', 'TLS handshake failed'));
  });

  it('6120 §8.3.3.17: a stream that ends before authentication bounces with <remote-server-timeout/>', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step({ type: 'CONNECTED' });
    expect(r.step({ type: 'ENDED' })[0]).toEqual(bounce(1, 'remote-server-timeout', 'the stream ended before it was authenticated'));
    expect(r.state).toBe('waiting');
  });

  it('6120 §8.3.3.17: no authenticated stream within the connect timeout: the attempt is abandoned, the queue bounced', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step({ type: 'CONNECTED' });
    expect(r.advance(999)).toEqual([]);
    expect(r.advance(1)).toEqual([
      { type: 'abort' },
      bounce(1, 'remote-server-timeout', 'no authenticated stream within the connect timeout'),
      { type: 'backingOff', attempt: 1, delayMs: 250, condition: 'remote-server-timeout', reason: 'no authenticated stream within the connect timeout' },
    ]);
    // The abandoned attempt's late news changes nothing.
    expect(r.step({ type: 'AUTHENTICATED' })).toEqual([]);
    expect(r.state).toBe('waiting');
  });
});

describe('retry back-off after a failure (6120 §3.3)', () => {
  it('6120 §3.3: during the back-off a stanza is bounced at once; after it, the next stanza starts a new attempt', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step(NOT_FOUND);
    expect(r.step({ type: 'SEND', stanza: message(2) })).toEqual([bounce(2, 'remote-server-not-found', 'no SRV, A or AAAA record')]);
    expect(r.advance(249)).toEqual([]);
    expect(r.advance(1)).toEqual([]); // no stanza, no attempt
    expect(r.state).toBe('idle');
    expect(r.step({ type: 'SEND', stanza: message(3) })).toEqual([CONNECT]);
  });

  it('6120 §3.3: the window doubles per failed attempt, truncated at max, and starts over once authenticated', () => {
    const r = route();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      r.step({ type: 'SEND', stanza: message(i) });
      const out = r.step(NOT_FOUND);
      delays.push((out.find((c) => c.type === 'backingOff') as { delayMs: number }).delayMs);
      r.advance(2000);
    }
    expect(delays).toEqual([250, 450, 850, 850]); // windows [100, 400], [100, 800], [100, 1600], [100, 1600] (max)
    r.step({ type: 'SEND', stanza: message(9) });
    r.step({ type: 'CONNECTED' });
    r.step({ type: 'AUTHENTICATED' });
    r.step({ type: 'ENDED' });
    r.step({ type: 'SEND', stanza: message(10) });
    expect(r.step(NOT_FOUND).at(-1)).toMatchObject({ type: 'backingOff', attempt: 1, delayMs: 250 });
  });
});

describe('an authenticated stream (6120 §10.4.1)', () => {
  it('6120 §3.4: a stream that ends after authentication: what was written is not sent again, the next stanza reconnects at once', () => {
    const r = authenticated();
    r.step({ type: 'SEND', stanza: message(1) });
    expect(r.step({ type: 'ENDED', reason: 'ECONNRESET' })).toEqual([]);
    expect(r.state).toBe('idle');
    expect(r.step({ type: 'SEND', stanza: message(2) })).toEqual([CONNECT]);
    r.step({ type: 'CONNECTED' });
    expect(r.step({ type: 'AUTHENTICATED' })).toEqual([write(2)]); // not message 1 again
  });

  it('6120 §4.6.3: idle for idleClose: the stream is closed; each stanza starts the idle timer over', () => {
    const r = authenticated();
    r.advance(4000);
    r.step({ type: 'SEND', stanza: message(1) });
    expect(r.advance(4999)).toEqual([]);
    expect(r.advance(1)).toEqual([{ type: 'closeStream' }]);
    expect(r.state).toBe('closing');
    expect(r.step({ type: 'ENDED' })).toEqual([]);
    expect(r.state).toBe('idle');
  });

  it('6120 §4.4, §10.1: stanzas sent while the idle stream closes wait, and a new stream opens once it has ended', () => {
    const r = authenticated();
    r.advance(5000);
    expect(r.step({ type: 'SEND', stanza: message(1) })).toEqual([]); // nothing after our closing tag
    expect(r.step({ type: 'ENDED' })).toEqual([CONNECT]);
    r.step({ type: 'CONNECTED' });
    expect(r.step({ type: 'AUTHENTICATED' })).toEqual([write(1)]);
  });
});

describe('shutdown (6120 §4.4)', () => {
  it('6120 §4.4: idle or backing off: stopped at once', () => {
    expect(route().step({ type: 'STOP' })).toEqual([{ type: 'stopped' }]);
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step(NOT_FOUND);
    expect(r.step({ type: 'STOP' })).toEqual([{ type: 'stopped' }]);
    expect(r.advance(10_000)).toEqual([]);
    expect(r.actor.getSnapshot().status).toBe('done');
  });

  it('6120 §10.4.3: while connecting: the attempt is abandoned and what waited is bounced', () => {
    const r = route();
    r.step({ type: 'SEND', stanza: message(1) });
    r.step({ type: 'CONNECTED' });
    r.step({ type: 'SEND', stanza: message(2) });
    expect(r.step({ type: 'STOP' })).toEqual([
      { type: 'abort' },
      bounce(1, 'remote-server-timeout', 'the server is shutting down'),
      bounce(2, 'remote-server-timeout', 'the server is shutting down'),
      { type: 'stopped' },
    ]);
    expect(r.advance(10_000)).toEqual([]); // the connect timeout went with the state
  });

  it('6120 §4.4: authenticated: the stream is closed, a late stanza bounced, and its end is final', () => {
    const r = authenticated();
    expect(r.step({ type: 'STOP' })).toEqual([{ type: 'closeStream' }]);
    expect(r.state).toBe('stopping');
    expect(r.step({ type: 'SEND', stanza: message(1) })).toEqual([bounce(1, 'remote-server-timeout', 'the server is shutting down')]);
    expect(r.step({ type: 'ENDED' })).toEqual([{ type: 'stopped' }]);
    expect(r.actor.getSnapshot().status).toBe('done');
  });

  it('6120 §4.4: while an idle close is under way: what waited is bounced, the close not repeated', () => {
    const r = authenticated();
    r.advance(5000);
    r.step({ type: 'SEND', stanza: message(1) });
    expect(r.step({ type: 'STOP' })).toEqual([bounce(1, 'remote-server-timeout', 'the server is shutting down')]);
    expect(r.step({ type: 'ENDED' })).toEqual([{ type: 'stopped' }]);
  });
});

describe('the bounce (6120 §8.3, §10.4.3)', () => {
  it('6120 §8.3.3.16: swapped addresses, same id, type=error, the original payload, <error type=cancel by=local>', () => {
    const b = bounceStanza(message(1), 'remote-server-not-found', { by: LOCAL, text: 'no SRV, A or AAAA record' });
    expect(b).toEqual(
      el(
        'message',
        'jabber:client',
        { id: 'm1', to: `romeo@${LOCAL}/orchard`, from: `juliet@${REMOTE}`, type: 'error' },
        el('body', 'jabber:client', {}, 'hello 1'),
        el('error', 'jabber:client', { type: 'cancel', by: LOCAL }, el('remote-server-not-found', NS.STANZAS), el('text', NS.STANZAS, { 'xml:lang': 'en' }, 'no SRV, A or AAAA record')),
      ),
    );
  });

  it('6120 §8.3.3.17, §8.3.3.18: the error types are wait for remote-server-timeout and resource-constraint', () => {
    for (const condition of ['remote-server-timeout', 'resource-constraint'] as const) {
      const error = bounceStanza(message(1), condition)!.children.at(-1);
      expect(error).toMatchObject({ name: 'error', attrs: { type: 'wait' } });
      expect(STANZA_ERROR_CONDITIONS[condition]).toBe('wait');
    }
  });

  it('6120 §8.3.1: an error is never answered with an error, nor an IQ result; an IQ without id gets id=""', () => {
    expect(bounceStanza(message(1, { type: 'error' }), 'remote-server-timeout')).toBeUndefined();
    const iq = (type: string) => el('iq', 'jabber:client', { from: `romeo@${LOCAL}/orchard`, to: REMOTE, type }, el('ping', NS.PING));
    expect(bounceStanza(iq('result'), 'remote-server-timeout')).toBeUndefined();
    expect(bounceStanza(iq('get'), 'remote-server-timeout')?.attrs).toEqual({ id: '', to: `romeo@${LOCAL}/orchard`, from: REMOTE, type: 'error' });
  });

  it('RFC 6121 §8.5.1, §4.3.1: available, unavailable and probe presence are dropped; subscription presence is bounced (RFC 6121 §3.1.2)', () => {
    const presence = (type?: string) => el('presence', 'jabber:client', { from: `romeo@${LOCAL}`, to: `juliet@${REMOTE}`, id: 'p1', type });
    for (const type of [undefined, 'unavailable', 'probe']) expect(bounceStanza(presence(type), 'remote-server-not-found'), String(type)).toBeUndefined();
    for (const type of ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']) {
      expect(bounceStanza(presence(type), 'remote-server-not-found')?.attrs, type).toEqual({ id: 'p1', to: `romeo@${LOCAL}`, from: `juliet@${REMOTE}`, type: 'error' });
    }
  });

  it('6120 §8.1.2.1: a stanza without a from has nobody to return to', () => {
    expect(bounceStanza(el('message', 'jabber:client', { to: `juliet@${REMOTE}` }), 'remote-server-timeout')).toBeUndefined();
  });
});

describe('the model', () => {
  it('6120 §10.4: every transition and every state cites RFC 6120 by existing sections, with a description', () => {
    const model = describeMachine(s2sRouteMachine, DESCRIBE_OPTIONS);
    expect(model.transitions.length).toBeGreaterThan(20);
    for (const t of model.transitions) {
      const where = `${t.source} --${t.event}-->`;
      expect(t.rfc, where).toMatch(/^6120 §\d/);
      expect(citations(t.rfc!).length, where).toBeGreaterThan(0);
      for (const section of rfc6120Sections(t.rfc)) expect(HEADINGS.has(section), `${where} cites §${section}`).toBe(true);
      expect(t.description, where).toBeTruthy();
    }
    for (const s of model.states) {
      expect(s.rfc, s.path).toMatch(/^6120 §\d/);
      expect(s.summary, s.path).toBeTruthy();
      for (const section of rfc6120Sections(s.rfc)) expect(HEADINGS.has(section), `${s.path} cites §${section}`).toBe(true);
    }
    // Named delays show their defaults (machines/s2s/route/policy.ts) in the diagrams.
    expect(model.transitions.map((t) => t.event)).toEqual(expect.arrayContaining(['after connectTimeout = 60000 ms', 'after idleTimeout = 900000 ms']));
  });

  it('6120 §10.4: registered in the catalog as a server machine', () => {
    expect(MACHINES).toContainEqual(expect.objectContaining({ name: 's2s-route', role: 'server', exportName: 's2sRouteMachine' }));
  });
});
