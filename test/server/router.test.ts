/**
 * The router (RFC 6120 §10, §8.3) without sockets: deliveries for every address form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatJid, parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { attr, child, el, type XmlElement } from '../../machines/xml.js';
import { presenceSessionChange, route, SERVER_FEATURES, type RouterView } from '../../runtime/server/router.js';
import { SessionRegistry, type RegisteredSession } from '../../runtime/server/registry.js';
import { stanzaError } from './client.js';

const DOMAIN = 'im.example.com';
const JULIET = 'juliet@im.example.com/balcony';
const JULIET2 = 'juliet@im.example.com/chamber';
const ROMEO = 'romeo@im.example.com/orchard';

function view(online: string[] = [JULIET, ROMEO], presence: string[] = []): RouterView {
  return {
    domain: DOMAIN,
    accountExists: (l) => l === 'juliet' || l === 'romeo' || l === 'nurse',
    resources: (bare) => online.filter((j) => j.startsWith(`${bare}/`)),
    hasPresenceSession: (full) => presence.includes(full),
  };
}

const msg = (to: string | undefined, attrs: Record<string, string> = {}) =>
  el('message', NS.CLIENT, { from: JULIET, to, id: 'm1', type: 'chat', ...attrs }, el('body', NS.CLIENT, {}, 'hi'));
const iq = (to: string | undefined, payload: XmlElement, type = 'get', from = JULIET) => el('iq', NS.CLIENT, { from, to, id: 'q1', type }, payload);
const ping = el('ping', NS.PING);
const discoInfo = el('query', NS.DISCO_INFO);
const unknown = el('query', 'urn:example:unknown');
const presence = (to: string | undefined, type?: string) => el('presence', NS.CLIENT, { from: JULIET, to, type });

function onlyError(stanza: XmlElement, v = view()) {
  const out = route(stanza, v);
  expect(out).toHaveLength(1);
  expect(out[0]!.to).toBe(attr(stanza, 'from'));
  expect(attr(out[0]!.stanza, 'type')).toBe('error');
  expect(attr(out[0]!.stanza, 'id')).toBe(attr(stanza, 'id') ?? '');
  return { ...stanzaError(out[0]!.stanza), reply: out[0]!.stanza };
}

describe('RFC 6120 §10.5.4 full JID', () => {
  it('a connected resource that exactly matches gets the stanza, unchanged', () => {
    const m = msg(ROMEO);
    expect(route(m, view())).toEqual([{ to: ROMEO, stanza: m }]);
    const r = iq(ROMEO, ping, 'result');
    expect(route(r, view())).toEqual([{ to: ROMEO, stanza: r }]);
  });

  it('message to an unconnected resource goes to the bare JID: every connected resource (§10.5.3.2)', () => {
    const m = msg('juliet@im.example.com/gone', { from: ROMEO });
    expect(route(m, view([JULIET, JULIET2, ROMEO])).map((d) => d.to)).toEqual([JULIET, JULIET2]);
  });

  it('presence to an unconnected resource is dropped; IQ gets service-unavailable (cancel)', () => {
    expect(route(presence('romeo@im.example.com/gone'), view())).toEqual([]);
    expect(onlyError(iq('romeo@im.example.com/gone', ping))).toMatchObject({ condition: 'service-unavailable', type: 'cancel' });
  });
});

describe('RFC 6120 §10.5.3 bare JID', () => {
  it('message: every connected resource, in bind order', () => {
    const m = msg('juliet@im.example.com', { from: ROMEO });
    expect(route(m, view([JULIET2, ROMEO, JULIET])).map((d) => d.to)).toEqual([JULIET2, JULIET]);
  });

  it('message to an existing account with nothing connected: service-unavailable (§10.5.3.2 b)', () => {
    expect(onlyError(msg('nurse@im.example.com'))).toMatchObject({ condition: 'service-unavailable', type: 'cancel' });
  });

  it('presence: only resources with a presence session; otherwise dropped', () => {
    const p = presence('romeo@im.example.com');
    expect(route(p, view([JULIET, ROMEO]))).toEqual([]);
    expect(route(p, view([JULIET, ROMEO], [ROMEO]))).toEqual([{ to: ROMEO, stanza: p }]);
  });

  it('IQ to the own bare JID is answered on the account\'s behalf (ping, disco#info), unknown → service-unavailable', () => {
    const own = 'juliet@im.example.com';
    const [pong] = route(iq(own, ping), view());
    expect(pong).toMatchObject({ to: JULIET });
    expect(pong!.stanza.attrs).toMatchObject({ type: 'result', id: 'q1', from: own, to: JULIET });
    const [info] = route(iq(own, discoInfo), view());
    expect(child(child(info!.stanza, 'query', NS.DISCO_INFO)!, 'identity', NS.DISCO_INFO)!.attrs).toMatchObject({ category: 'account', type: 'registered' });
    expect(onlyError(iq(own, unknown)).condition).toBe('service-unavailable');
  });

  it('IQ to another account\'s bare JID: the same service-unavailable an absent account gives (§10.2 harvesting)', () => {
    const existing = onlyError(iq('romeo@im.example.com', ping));
    const absent = onlyError(iq('nobody@im.example.com', ping));
    expect(existing.condition).toBe('service-unavailable');
    expect(absent).toMatchObject({ condition: existing.condition, type: existing.type });
  });
});

describe('RFC 6120 §10.5.3.1 no such user: identical for bare and full JIDs', () => {
  it.each([
    ['message', (to: string) => msg(to)],
    ['iq', (to: string) => iq(to, ping)],
  ])('%s: service-unavailable for bare and full alike, and the same as an offline existing account', (_k, make) => {
    const bareErr = onlyError(make('nobody@im.example.com'));
    const fullErr = onlyError(make('nobody@im.example.com/x'));
    const offlineFull = onlyError(make('nurse@im.example.com/x'));
    expect(bareErr.condition).toBe('service-unavailable');
    for (const e of [fullErr, offlineFull]) expect({ condition: e.condition, type: e.type }).toEqual({ condition: bareErr.condition, type: bareErr.type });
  });

  it('presence to an absent user is dropped (no presence leak)', () => {
    expect(route(presence('nobody@im.example.com'), view())).toEqual([]);
    expect(route(presence('nobody@im.example.com/x'), view())).toEqual([]);
  });
});

describe('RFC 6120 §10.3 no \'to\'', () => {
  it('message: as if to the sender\'s bare JID (§10.3.1)', () => {
    expect(route(msg(undefined), view([JULIET, JULIET2])).map((d) => d.to)).toEqual([JULIET, JULIET2]);
  });

  it('presence: broadcast to the account\'s own resources with a presence session (no roster: §10.3.2), and it opens/closes the session', () => {
    const p = presence(undefined);
    expect(route(p, view([JULIET, JULIET2, ROMEO], [JULIET, ROMEO]))).toEqual([{ to: JULIET, stanza: p }]);
    expect(route(p, view([JULIET, JULIET2, ROMEO], [JULIET, JULIET2, ROMEO])).map((d) => d.to)).toEqual([JULIET, JULIET2]);
    const gone = presence(undefined, 'unavailable');
    expect(route(gone, view([JULIET, JULIET2], [JULIET2])).map((d) => d.to)).toEqual([JULIET2]);
    expect(route(presence(undefined, 'subscribe'), view([JULIET], [JULIET]))).toEqual([]);
    expect(route(presence(undefined), view([JULIET], []))).toEqual([]);
    expect(presenceSessionChange(presence(undefined))).toBe(true);
    expect(presenceSessionChange(presence(undefined, 'unavailable'))).toBe(false);
    expect(presenceSessionChange(presence('romeo@im.example.com'))).toBeUndefined();
    expect(presenceSessionChange(presence(undefined, 'subscribe'))).toBeUndefined();
  });

  it('IQ: handled for the account (§10.3.3): ping result without \'from\', unknown → service-unavailable, results ignored', () => {
    const [pong] = route(iq(undefined, ping), view());
    expect(pong!.stanza.attrs).toEqual({ id: 'q1', to: JULIET, type: 'result' });
    expect(onlyError(iq(undefined, unknown)).condition).toBe('service-unavailable');
    expect(route(iq(undefined, ping, 'result'), view())).toEqual([]);
    expect(route(iq(undefined, ping, 'error'), view())).toEqual([]);
  });
});

describe('RFC 6120 §10.5.1 the server\'s domain', () => {
  it('XEP-0199 ping → empty result from the domain', () => {
    const [pong] = route(iq(DOMAIN, ping), view());
    expect(pong!.stanza).toEqual(el('iq', NS.CLIENT, { id: 'q1', to: JULIET, from: DOMAIN, type: 'result' }));
  });

  it('XEP-0030 disco#info → identity server/im and SERVER_FEATURES (server-iq.ts; detail in compat.test.ts)', () => {
    const [info] = route(iq(DOMAIN, discoInfo), view());
    const query = child(info!.stanza, 'query', NS.DISCO_INFO)!;
    expect(child(query, 'identity', NS.DISCO_INFO)!.attrs).toMatchObject({ category: 'server', type: 'im' });
    const features = query.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === 'feature').map((f) => f.attrs['var']);
    expect(features.sort()).toEqual([...SERVER_FEATURES].sort());
    expect(onlyError(iq(DOMAIN, el('query', NS.DISCO_INFO, { node: 'x' }))).condition).toBe('item-not-found');
  });

  it('unknown payload → service-unavailable; result/error to the server → dropped; presence dropped', () => {
    expect(onlyError(iq(DOMAIN, unknown))).toMatchObject({ condition: 'service-unavailable', type: 'cancel' });
    expect(onlyError(iq(DOMAIN, ping, 'set')).condition).toBe('service-unavailable');
    expect(route(iq(DOMAIN, ping, 'result'), view())).toEqual([]);
    expect(route(iq(DOMAIN, ping, 'error'), view())).toEqual([]);
    expect(route(presence(DOMAIN), view())).toEqual([]);
  });

  it('domain/resource (§10.5.2): no such service → service-unavailable', () => {
    expect(onlyError(iq(`${DOMAIN}/admin`, ping)).condition).toBe('service-unavailable');
  });
});

describe('RFC 6120 §10.4 remote domains, §8.3.3.8 malformed addresses, §8.2.3 malformed IQs', () => {
  it('remote domain → remote-server-not-found (cancel), from the remote address', () => {
    const e = onlyError(msg('romeo@example.net'));
    expect(e).toMatchObject({ condition: 'remote-server-not-found', type: 'cancel' });
    expect(attr(e.reply, 'from')).toBe('romeo@example.net');
  });

  it('malformed \'to\' → jid-malformed (modify), from our domain, never from the malformed JID (§8.3.1 rule 2)', () => {
    for (const bad of ['a@b@c', '@im.example.com', 'juliet@', 'ju"liet@im.example.com']) {
      const e = onlyError(iq(bad, ping));
      expect(e).toMatchObject({ condition: 'jid-malformed', type: 'modify' });
      expect(attr(e.reply, 'from')).toBe(DOMAIN);
    }
  });

  it('IQ get/set without exactly one payload, without id, or of unknown type → bad-request; an id-less error still has id=\'\'', () => {
    expect(onlyError(el('iq', NS.CLIENT, { from: JULIET, to: DOMAIN, id: 'z', type: 'get' })).condition).toBe('bad-request');
    expect(onlyError(el('iq', NS.CLIENT, { from: JULIET, to: DOMAIN, id: 'z', type: 'get' }, ping, discoInfo)).condition).toBe('bad-request');
    expect(onlyError(el('iq', NS.CLIENT, { from: JULIET, to: DOMAIN, id: 'z', type: 'fetch' }, ping)).condition).toBe('bad-request');
    const noId = route(el('iq', NS.CLIENT, { from: JULIET, to: DOMAIN, type: 'get' }, ping), view());
    expect(noId).toHaveLength(1);
    expect(attr(noId[0]!.stanza, 'id')).toBe('');
  });
});

describe('errors go back to the stream that sent the stanza', () => {
  it("subscription presence carries the bare JID as 'from' (§8.1.2.1); its error still reaches the full JID", () => {
    const sub = el('presence', NS.CLIENT, { from: 'juliet@im.example.com', to: 'romeo@example.net', type: 'subscribe' });
    const out = route(sub, view(), JULIET);
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toBe(JULIET);
    expect(stanzaError(out[0]!.stanza).condition).toBe('remote-server-not-found');
  });
});

describe('RFC 6120 §8.3.1: never answer an error with an error', () => {
  it.each([
    msg('nobody@im.example.com', { type: 'error' }),
    msg('romeo@example.net', { type: 'error' }),
    msg('a@b@c', { type: 'error' }),
    iq('nobody@im.example.com', ping, 'error'),
    iq('romeo@im.example.com/gone', ping, 'error'),
    iq(DOMAIN, unknown, 'error'),
    msg(DOMAIN, { type: 'error' }),
  ])('error stanza %# produces no reply', (s) => {
    expect(route(s, view())).toEqual([]);
  });
});

describe('every IQ get/set is answered exactly once (§8.2.3)', () => {
  const targets = [undefined, DOMAIN, `${DOMAIN}/x`, 'juliet@im.example.com', 'romeo@im.example.com', 'nobody@im.example.com', 'nobody@im.example.com/r', 'romeo@im.example.com/gone', 'x@example.net', 'a@b@c'];
  it.each(targets.flatMap((to) => [ping, discoInfo, unknown].map((p) => [to ?? '(none)', p] as const)))('to %s', (to, payload) => {
    const stanza = iq(to === '(none)' ? undefined : to, payload);
    const out = route(stanza, view());
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toBe(JULIET);
    expect(['result', 'error']).toContain(attr(out[0]!.stanza, 'type'));
    expect(attr(out[0]!.stanza, 'id')).toBe('q1');
  });
  it('except when it reaches the connected addressee, which answers it itself', () => {
    const s = iq(ROMEO, unknown);
    expect(route(s, view())).toEqual([{ to: ROMEO, stanza: s }]);
  });
});

describe('SessionRegistry', () => {
  const session = (jid: string): RegisteredSession => ({ jid, presence: false, routeIn: () => undefined, replaced: () => undefined });
  it('binds, reports status, replaces, and never lets a replaced session unbind its successor', () => {
    const r = new SessionRegistry();
    const a = session(JULIET);
    expect(r.bind(a)).toBeUndefined();
    expect(r.status('juliet@im.example.com', 'balcony')).toEqual({ inUse: true, boundCount: 1 });
    expect(r.status('juliet@im.example.com', 'chamber')).toEqual({ inUse: false, boundCount: 1 });
    const b = session(JULIET);
    expect(r.bind(b)).toBe(a);
    expect(r.size).toBe(1);
    expect(r.unbind(a)).toBe(false);
    expect(r.get(JULIET)).toBe(b);
    r.bind(session(JULIET2));
    expect(r.resources('juliet@im.example.com')).toEqual([JULIET, JULIET2]);
    expect(r.unbind(b)).toBe(true);
    expect(r.size).toBe(1);
    expect(r.resources('juliet@im.example.com')).toEqual([JULIET2]);
  });
});

describe('properties (fast-check)', () => {
  const local = fc.constantFrom('juliet', 'romeo', 'nurse', 'ghost', 'Juliet');
  const domain = fc.constantFrom(DOMAIN, 'example.net', 'IM.example.com');
  const resource = fc.constantFrom('balcony', 'chamber', 'orchard', 'gone', 'a b');
  const address = fc.oneof(
    fc.constant(undefined),
    fc.tuple(fc.option(local, { nil: undefined }), domain, fc.option(resource, { nil: undefined })).map(
      ([l, d, r]) => (l ? `${l}@` : '') + d + (r ? `/${r}` : ''),
    ),
    fc.string({ maxLength: 12 }), // often malformed
  );
  const online = fc.subarray([JULIET, JULIET2, ROMEO]);
  const payload = fc.constantFrom(ping, discoInfo, unknown);

  it('every IQ get/set is answered exactly once, to its sender, with its id — unless a connected addressee gets it', () => {
    fc.assert(
      fc.property(address, online, payload, fc.constantFrom('get', 'set'), (to, on, p, type) => {
        const stanza = iq(to, p, type);
        const out = route(stanza, view([JULIET, ...on.filter((j) => j !== JULIET)]));
        expect(out).toHaveLength(1);
        const [d] = out;
        if (d!.stanza === stanza) {
          // Delivered to the connected resource the 'to' names, after RFC 7622 preparation.
          expect(d!.to).toBe(formatJid(parseJid(attr(stanza, 'to')!)!));
        } else {
          expect(d!.to).toBe(JULIET);
          expect(['result', 'error']).toContain(attr(d!.stanza, 'type'));
          expect(attr(d!.stanza, 'id')).toBe('q1');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an error stanza is never answered, and nothing is ever delivered to a JID that is not connected', () => {
    fc.assert(
      fc.property(address, online, fc.constantFrom('message', 'presence', 'iq'), (to, on, kind) => {
        const errorStanza = el(kind, NS.CLIENT, { from: JULIET, to, id: 'e', type: 'error' }, el('error', NS.CLIENT, { type: 'cancel' }, el('service-unavailable', NS.STANZAS)));
        const connected = [JULIET, ...on.filter((j) => j !== JULIET)];
        const out = route(errorStanza, view(connected));
        for (const d of out) {
          expect(d.stanza).toBe(errorStanza); // forwarded as is, never a new error
          expect(connected).toContain(d.to);
        }
      }),
      { numRuns: 300 },
    );
  });
});
