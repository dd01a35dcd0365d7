/**
 * The answers everyday clients rely on right after login (profanity, poezio, aioxmpp, Gajim):
 * roster get and set (RFC 6121 §2.2, §2.3), the legacy session request (RFC 3921 §3), service discovery on
 * the domain and on the own account (XEP-0030), and `<service-unavailable/>` for the rest
 * (RFC 6120 §8.4). Pure answers (runtime/server/server-iq.ts) through the router, then once
 * over a real socket with our client.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NS } from '../../machines/ns.js';
import { attr, child, childElements, el, type XmlElement } from '../../machines/xml.js';
import { createClient, StanzaError, type XmppClient } from '../../runtime/client/index.js';
import { route, type RouterView } from '../../runtime/server/router.js';
import { ACCOUNT_FEATURES, answerIq, CONTACT_FEATURES, IQ_NS, SERVER_FEATURES } from '../../runtime/server/server-iq.js';
import { removeDir, startServer, USERS, type Running } from '../client/fixture.js';
import { authenticate, secured, stanzaError } from './client.js';
import { testRosters, type TestRosters } from './roster-fixture.js';

const DOMAIN = 'im.example.com';
const JULIET = 'juliet@im.example.com/balcony';
const JULIET_BARE = 'juliet@im.example.com';

// A real roster store for juliet and romeo, fresh for every test (RFC 6121 §2: a new account's roster is empty).
let rosters: TestRosters;
let view: RouterView;
beforeEach(() => {
  rosters = testRosters();
  view = {
    domain: DOMAIN,
    accountExists: (l) => l === 'juliet' || l === 'romeo',
    resources: (bare) => [JULIET, 'romeo@im.example.com/orchard'].filter((j) => j.startsWith(`${bare}/`)),
    hasPresenceSession: () => false,
    roster: rosters.view,
  };
});
afterEach(() => rosters.close());

const iq = (to: string | undefined, payload: XmlElement, type = 'get') => el('iq', NS.CLIENT, { from: JULIET, to, id: 'c1', type }, payload);
const rosterQuery = el('query', IQ_NS.ROSTER);
const rosterSet = el('query', IQ_NS.ROSTER, {}, el('item', IQ_NS.ROSTER, { jid: 'nurse@im.example.com' }));
const session = el('session', IQ_NS.SESSION);
const discoInfo = el('query', NS.DISCO_INFO);
const discoItems = el('query', IQ_NS.DISCO_ITEMS);

/** The single reply the router sends back to the sender. */
function reply(stanza: XmlElement): XmlElement {
  const out = route(stanza, view);
  expect(out).toHaveLength(1);
  expect(out[0]!.to).toBe(JULIET);
  expect(attr(out[0]!.stanza, 'id')).toBe('c1');
  return out[0]!.stanza;
}
function resultOf(stanza: XmlElement): XmlElement {
  const r = reply(stanza);
  expect(attr(r, 'type')).toBe('result');
  return r;
}
const errorOf = (stanza: XmlElement) => {
  const r = reply(stanza);
  expect(attr(r, 'type')).toBe('error');
  return stanzaError(r);
};
const featuresOf = (query: XmlElement) => childElements(query).filter((c) => c.name === 'feature').map((f) => attr(f, 'var'));

describe('RFC 6121 §2.2 roster get (a new account: the empty roster)', () => {
  it('RFC 6121 §2.2 / RFC 6120 §10.3.3: without \'to\' → a result with an empty jabber:iq:roster query, no \'from\', with ver (§2.6.3)', () => {
    const r = resultOf(iq(undefined, rosterQuery));
    expect(r).toEqual(el('iq', NS.CLIENT, { id: 'c1', to: JULIET, type: 'result' }, el('query', IQ_NS.ROSTER, { ver: rosters.store.version('juliet') })));
  });

  it('RFC 6121 §2.2 / RFC 6120 §10.5.3.2: to the own bare JID → the same empty roster, from the bare JID', () => {
    const r = resultOf(iq(JULIET_BARE, rosterQuery));
    expect(attr(r, 'from')).toBe(JULIET_BARE);
    expect(childElements(child(r, 'query', IQ_NS.ROSTER)!)).toEqual([]);
  });

  it('RFC 6121 §2.1.3: a get with <item/>s (which it MUST NOT contain) is not refused: the roster, items ignored', () => {
    expect(childElements(child(resultOf(iq(undefined, el('query', IQ_NS.ROSTER, {}, el('item', IQ_NS.ROSTER, { jid: 'x@y' })))), 'query', IQ_NS.ROSTER)!)).toEqual([]);
  });

  it('RFC 6121 §2.3.2 roster set from the user → an empty result (no push: the resource never requested the roster, §2.2; detail in roster.test.ts)', () => {
    expect(route(iq(undefined, rosterSet, 'set'), view)).toEqual([{ to: JULIET, stanza: el('iq', NS.CLIENT, { id: 'c1', to: JULIET, type: 'result' }) }]);
    expect(resultOf(iq(JULIET_BARE, rosterSet, 'set')).attrs).toEqual({ id: 'c1', to: JULIET, from: JULIET_BARE, type: 'result' });
  });

  it('RFC 6121 §2.3.3: a roster IQ to another account\'s bare JID → <forbidden/> (auth), the same for an absent account (RFC 6120 §10.2)', () => {
    for (const to of ['romeo@im.example.com', 'nobody@im.example.com']) {
      expect(errorOf(iq(to, rosterQuery))).toEqual({ condition: 'forbidden', type: 'auth' });
      expect(errorOf(iq(to, rosterSet, 'set'))).toEqual({ condition: 'forbidden', type: 'auth' });
    }
    // Any other IQ to another account stays <service-unavailable/> (RFC 6120 §10.5.3.2, router.test.ts).
    expect(errorOf(iq('romeo@im.example.com', discoInfo)).condition).toBe('service-unavailable');
  });

  it('RFC 6121 §2.1: a roster IQ to the server\'s domain is nobody\'s roster → <service-unavailable/>', () => {
    expect(errorOf(iq(DOMAIN, rosterQuery))).toEqual({ condition: 'service-unavailable', type: 'cancel' });
  });

  it('RFC 6120 §10.3.3 rule 3: roster results and errors from the client are not answered', () => {
    expect(route(iq(undefined, rosterQuery, 'result'), view)).toEqual([]);
    expect(route(iq(JULIET_BARE, rosterQuery, 'error'), view)).toEqual([]);
  });
});

describe('RFC 3921 §3 session establishment (a no-op since RFC 6121 Appendix E)', () => {
  it('RFC 3921 §3: a session set to the domain → an empty result with the same id, from the domain', () => {
    expect(resultOf(iq(DOMAIN, session, 'set'))).toEqual(el('iq', NS.CLIENT, { id: 'c1', to: JULIET, from: DOMAIN, type: 'result' }));
  });

  it('RFC 3921 §3: a session set without \'to\' → an empty result without \'from\'', () => {
    expect(resultOf(iq(undefined, session, 'set'))).toEqual(el('iq', NS.CLIENT, { id: 'c1', to: JULIET, type: 'result' }));
  });

  it('RFC 6120 §8.4: a session get is not a session request → <service-unavailable/>', () => {
    expect(errorOf(iq(DOMAIN, session, 'get')).condition).toBe('service-unavailable');
  });
});

describe('XEP-0030 service discovery', () => {
  it('XEP-0030 §3.1 disco#info to the domain → identity server/im and the features really answered', () => {
    const query = child(resultOf(iq(DOMAIN, discoInfo)), 'query', NS.DISCO_INFO)!;
    expect(child(query, 'identity', NS.DISCO_INFO)!.attrs).toMatchObject({ category: 'server', type: 'im' });
    expect(featuresOf(query).sort()).toEqual(
      [NS.DISCO_INFO, IQ_NS.DISCO_ITEMS, NS.PING, IQ_NS.ROSTER, IQ_NS.SESSION].sort(),
    );
    expect(featuresOf(query)).toEqual([...SERVER_FEATURES]);
  });

  it('XEP-0030 §3.1: every advertised server feature is answered by a result, not an error', () => {
    const probes: Record<string, [XmlElement, string, string | undefined]> = {
      [NS.DISCO_INFO]: [discoInfo, 'get', DOMAIN],
      [IQ_NS.DISCO_ITEMS]: [discoItems, 'get', DOMAIN],
      [NS.PING]: [el('ping', NS.PING), 'get', DOMAIN],
      [IQ_NS.ROSTER]: [rosterQuery, 'get', undefined], // the user's roster: no 'to' (RFC 6121 §2.1.3)
      [IQ_NS.SESSION]: [session, 'set', DOMAIN],
    };
    for (const f of SERVER_FEATURES) {
      const [payload, type, to] = probes[f]!;
      expect(attr(reply(iq(to, payload, type)), 'type'), f).toBe('result');
    }
  });

  it('XEP-0030 §4.1 disco#items to the domain → an empty result; a node → item-not-found', () => {
    const r = resultOf(iq(DOMAIN, discoItems));
    expect(r).toEqual(el('iq', NS.CLIENT, { id: 'c1', to: JULIET, from: DOMAIN, type: 'result' }, el('query', IQ_NS.DISCO_ITEMS)));
    expect(errorOf(iq(DOMAIN, el('query', IQ_NS.DISCO_ITEMS, { node: 'x' }))).condition).toBe('item-not-found');
  });

  it('XEP-0030 §3.1 disco#info to the own bare JID → identity account/registered, account features; disco#items empty', () => {
    const query = child(resultOf(iq(JULIET_BARE, discoInfo)), 'query', NS.DISCO_INFO)!;
    expect(child(query, 'identity', NS.DISCO_INFO)!.attrs).toEqual({ category: 'account', type: 'registered' });
    expect(featuresOf(query)).toEqual([...ACCOUNT_FEATURES]);
    expect(childElements(child(resultOf(iq(JULIET_BARE, discoItems)), 'query', IQ_NS.DISCO_ITEMS)!)).toEqual([]);
  });
});

describe('XEP-0030 §8 disco to another account\'s bare JID (the server answers on its behalf, §3.1)', () => {
  const ROMEO = 'romeo@im.example.com';
  const subscribe = (subscription: 'none' | 'to' | 'from' | 'both') =>
    rosters.store.setSubscription('romeo', JULIET_BARE, { subscription, approved: false });

  it('XEP-0030 §8 rule 1: disco#info → <service-unavailable/> for an absent account and for a sender without a presence subscription', () => {
    expect(errorOf(iq('nobody@im.example.com', discoInfo))).toEqual({ condition: 'service-unavailable', type: 'cancel' });
    expect(errorOf(iq(ROMEO, discoInfo))).toEqual({ condition: 'service-unavailable', type: 'cancel' });
    for (const s of ['none', 'to'] as const) {
      subscribe(s); // 'to': romeo receives juliet\'s presence, not the other way round (RFC 6121 §2.1.2.5)
      expect(errorOf(iq(ROMEO, discoInfo)).condition, s).toBe('service-unavailable');
    }
  });

  it('XEP-0030 §3.1 / §8 rule 1.2: a sender authorized to receive the account\'s presence (\'from\' or \'both\') → account/registered, CONTACT_FEATURES', () => {
    for (const s of ['from', 'both'] as const) {
      subscribe(s);
      const r = resultOf(iq(ROMEO, discoInfo));
      expect(attr(r, 'from')).toBe(ROMEO);
      const query = child(r, 'query', NS.DISCO_INFO)!;
      expect(child(query, 'identity', NS.DISCO_INFO)!.attrs).toEqual({ category: 'account', type: 'registered' });
      expect(featuresOf(query)).toEqual([...CONTACT_FEATURES]);
    }
    // We publish no nodes (§3.2): item-not-found, to the authorized sender only.
    expect(errorOf(iq(ROMEO, el('query', NS.DISCO_INFO, { node: 'x' }))).condition).toBe('item-not-found');
    // Ping is not among the claimed features, and indeed is not answered for another account.
    expect(errorOf(iq(ROMEO, el('ping', NS.PING))).condition).toBe('service-unavailable');
    // Every claimed feature is answered with a result.
    expect(attr(reply(iq(ROMEO, discoItems)), 'type')).toBe('result');
  });

  it('XEP-0030 §8 rule 2: disco#items → an empty result for an absent account, an unauthorized and an authorized sender, node or not', () => {
    const empty = (to: string, q = discoItems) => {
      const r = resultOf(iq(to, q));
      expect(attr(r, 'from')).toBe(to);
      expect(childElements(child(r, 'query', IQ_NS.DISCO_ITEMS)!)).toEqual([]);
    };
    empty('nobody@im.example.com');
    empty('nobody@im.example.com', el('query', IQ_NS.DISCO_ITEMS, { node: 'x' }));
    empty(ROMEO);
    subscribe('both');
    empty(ROMEO);
  });

  it('XEP-0030 §3.1: every feature claimed for the own account is answered with a result', () => {
    const probes: Record<string, XmlElement> = { [NS.DISCO_INFO]: discoInfo, [IQ_NS.DISCO_ITEMS]: discoItems, [NS.PING]: el('ping', NS.PING) };
    for (const f of ACCOUNT_FEATURES) expect(attr(reply(iq(JULIET_BARE, probes[f]!)), 'type'), f).toBe('result');
  });
});

describe('RFC 6120 §8.4 unknown payloads', () => {
  it('RFC 6120 §8.4: an unknown IQ payload gets <service-unavailable/> (cancel) at the domain, the own account and without \'to\'', () => {
    const unknown = el('query', 'urn:example:unknown');
    for (const to of [DOMAIN, JULIET_BARE, undefined]) {
      for (const type of ['get', 'set']) expect(errorOf(iq(to, unknown, type))).toEqual({ condition: 'service-unavailable', type: 'cancel' });
    }
    // Known element names in the wrong namespace are unknown payloads too.
    expect(answerIq('get', el('query', 'jabber:iq:rosterx'), { kind: 'account', self: true })).toEqual({ kind: 'error', condition: 'service-unavailable' });
    expect(answerIq('set', el('session', NS.CLIENT), { kind: 'server' })).toEqual({ kind: 'error', condition: 'service-unavailable' });
  });
});

describe('over a real socket: what a client asks right after login', () => {
  let running: Running;
  let c: XmppClient;
  beforeAll(async () => {
    running = await startServer();
  });
  afterAll(async () => {
    await c?.stop();
    await running.stop();
    removeDir(running.dataDir);
  });

  it('draft-cridland-xmpp-session §2: <session><optional/></session> follows <bind/> (with RFC 6121 §2.6.1 <ver/>), only after SASL', async () => {
    const { client: raw, features: beforeSasl } = await secured(running.port, running.certPem);
    try {
      expect(child(beforeSasl, 'session', IQ_NS.SESSION)).toBeUndefined();
      await authenticate(raw, 'alice', USERS.alice, 'SCRAM-SHA-256');
      raw.resetParser();
      raw.open();
      const features = await raw.element('features', NS.STREAMS);
      expect(childElements(features).map((f) => `${f.name} ${f.xmlns}`)).toEqual([
        `bind ${NS.BIND}`,
        'ver urn:xmpp:features:rosterver',
        `session ${IQ_NS.SESSION}`,
      ]);
      expect(child(features, 'session', IQ_NS.SESSION)).toEqual(el('session', IQ_NS.SESSION, {}, el('optional', IQ_NS.SESSION)));
    } finally {
      raw.socket.destroy();
    }
  });

  it('RFC 6121 §2.2 roster, RFC 3921 §3 session, XEP-0030 disco#info/items, RFC 6120 §8.4 unknown → service-unavailable', async () => {
    c = createClient({ jid: 'alice@localhost', password: USERS.alice, host: '127.0.0.1', port: running.port, tls: { ca: running.certPem } });
    const jid = await c.start();

    const roster = await c.iq(el('iq', NS.CLIENT, { type: 'get' }, el('query', IQ_NS.ROSTER)));
    expect(attr(roster, 'type')).toBe('result');
    expect(attr(roster, 'to')).toBe(jid);
    expect(childElements(child(roster, 'query', IQ_NS.ROSTER)!)).toEqual([]);

    const sess = await c.iq(el('iq', NS.CLIENT, { type: 'set', to: 'localhost', id: 'sess_1' }, el('session', IQ_NS.SESSION)));
    expect(sess.attrs).toMatchObject({ type: 'result', id: 'sess_1', from: 'localhost' });
    expect(childElements(sess)).toEqual([]);

    const info = await c.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('query', NS.DISCO_INFO)));
    const query = child(info, 'query', NS.DISCO_INFO)!;
    expect(child(query, 'identity', NS.DISCO_INFO)!.attrs).toMatchObject({ category: 'server', type: 'im' });
    expect(featuresOf(query)).toEqual(expect.arrayContaining([NS.DISCO_INFO, IQ_NS.DISCO_ITEMS, NS.PING, IQ_NS.ROSTER, IQ_NS.SESSION]));

    const items = await c.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('query', IQ_NS.DISCO_ITEMS)));
    expect(childElements(child(items, 'query', IQ_NS.DISCO_ITEMS)!)).toEqual([]);

    const own = await c.iq(el('iq', NS.CLIENT, { type: 'get', to: 'alice@localhost' }, el('query', NS.DISCO_INFO)));
    expect(child(child(own, 'query', NS.DISCO_INFO)!, 'identity', NS.DISCO_INFO)!.attrs).toEqual({ category: 'account', type: 'registered' });

    const set = await c.iq(el('iq', NS.CLIENT, { type: 'set' }, rosterSet)); // RFC 6121 §2.3.2 (pushes: roster-e2e.test.ts)
    expect(set.attrs).toMatchObject({ type: 'result', to: jid });
    const bad = c.iq(el('iq', NS.CLIENT, { type: 'set' }, el('query', IQ_NS.ROSTER)));
    await expect(bad).rejects.toBeInstanceOf(StanzaError);
    await expect(bad).rejects.toMatchObject({ condition: 'bad-request' }); // RFC 6121 §2.1.5 rule 1
    const foreign = c.iq(el('iq', NS.CLIENT, { type: 'get', to: 'bob@localhost' }, el('query', IQ_NS.ROSTER)));
    await expect(foreign).rejects.toMatchObject({ condition: 'forbidden' });
    const unknown = c.iq(el('iq', NS.CLIENT, { type: 'get', to: 'localhost' }, el('query', 'urn:example:unknown')));
    await expect(unknown).rejects.toMatchObject({ condition: 'service-unavailable' });

    // The stream survives all of it (aioxmpp disconnected on the old answers).
    expect(c.status).toBe('online');
    // Each refusal is logged for the operator, with the payload asked for (runtime/server/routing.ts).
    expect(running.logs.filter((l) => l.event === 'stanza.refused').map((l) => [l['payload'], l['condition']])).toEqual([
      [`{${IQ_NS.ROSTER}}query`, 'bad-request'],
      [`{${IQ_NS.ROSTER}}query`, 'forbidden'],
      ['{urn:example:unknown}query', 'service-unavailable'],
    ]);
  });
});
