import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import type { Command } from '../../../machines/protocol.js';
import { decodeSaslData } from '../../../machines/sasl/index.js';
import { child, el, text } from '../../../machines/xml.js';
import {
  DOMAIN,
  USER,
  auth,
  bindIq,
  credentials,
  element,
  header,
  message,
  plainAuth,
  plainData,
  response,
  saslFailureOf,
  scramAuth,
  sent,
  startServer,
  starttls,
  throughTls,
  types,
} from './harness.js';

const openStream = (cmds: Command[]) => cmds.find((c) => c.type === 'openStream');

describe('receiving entity: the whole negotiation (RFC 6120 §4.2-§7, §8, §4.4)', () => {
  it('STARTTLS required → SCRAM-SHA-256 → bind a submitted resource → stanzas both ways → the client closes', () => {
    const h = startServer({ tls: 'required' });
    expect(h.all).toEqual([]); // §4.2: the receiving entity speaks only after the initial header

    // §4.2, §5.4.1: response header + features with required STARTTLS only (§5.3.1)
    const first = h.step(header());
    expect(types(first)).toEqual(['openStream', 'send:features']);
    const hdr1 = openStream(first);
    expect(hdr1).toMatchObject({ header: { from: DOMAIN, to: `${USER}@${DOMAIN}`, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT } });
    expect(sent(first)[0]).toEqual(el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS))));

    // §5.4.2.3: <proceed/> then the TLS handshake
    expect(h.step(starttls())).toEqual([{ type: 'send', element: el('proceed', NS.TLS) }, { type: 'startTls' }]);
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.handshake']);
    // §5.4.3.3: TLS on → the client restarts; nothing is written until its new header
    expect(h.step({ type: 'TLS_ESTABLISHED' })).toEqual([]);
    const second = h.step(header());
    expect(types(second)).toEqual(['openStream', 'send:features']);
    const hdr2 = openStream(second);
    // §4.3.3 / §5.4.3.3 rule 4: a new stream id
    expect(hdr2?.type === 'openStream' && hdr1?.type === 'openStream' && hdr2.header.id !== hdr1.header.id).toBe(true);
    const mechanisms = child(sent(second)[0]!, 'mechanisms', NS.SASL)!;
    expect(mechanisms.children.map((m) => (typeof m === 'string' ? m : text(m)))).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    expect(child(sent(second)[0]!, 'starttls', NS.TLS)).toBeUndefined(); // §5.4.3.3 rule 5

    // §6.4.2-§6.4.6 SCRAM-SHA-256, the client side computed by machines/sasl
    const sasl = scramAuth(h, 'SCRAM-SHA-256');
    expect(types(sasl)).toEqual(['lookupCredentials', 'send:challenge', 'send:success', 'authenticated', 'resetParser']);
    expect(sasl[0]).toEqual({ type: 'lookupCredentials', username: USER });
    const success = sent(sasl).find((e) => e.name === 'success')!;
    expect(new TextDecoder().decode(decodeSaslData(text(success)))).toMatch(/^v=/); // §6.4.6 additional data
    expect(sasl).toContainEqual({ type: 'authenticated', username: USER });

    // §6.4.6 restart → features with <bind/> (§7.4)
    const third = h.step(header());
    expect(types(third)).toEqual(['openStream', 'send:features']);
    expect(sent(third)[0]).toEqual(el('features', NS.STREAMS, {}, el('bind', NS.BIND)));

    // §7.7.1 client-submitted resource
    expect(h.step(bindIq('b1', 'balcony'))).toEqual([{ type: 'queryResource', username: USER, resource: 'balcony' }]);
    const bind = h.step({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: false, boundCount: 0 });
    const jid = `${USER}@${DOMAIN}/balcony`;
    expect(bind).toEqual([
      { type: 'bound', jid, replace: false },
      {
        type: 'send',
        element: el('iq', NS.CLIENT, { id: 'b1', type: 'result' }, el('bind', NS.BIND, {}, el('jid', NS.BIND, {}, jid))),
      },
    ]);
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);

    // §8.1.2.1: 'from' stamped with the full JID before routing
    const out = h.step(message({ id: 'm1' }));
    expect(out).toEqual([
      {
        type: 'deliver',
        stanza: el('message', NS.CLIENT, { to: 'romeo@example.net', id: 'm1', from: jid, 'xml:lang': 'en' }, el('body', NS.CLIENT, {}, 'hi')),
      },
    ]);
    // §10: a routed stanza is written as it is
    const inbound = el('message', NS.CLIENT, { from: 'romeo@example.net/orchard', to: jid }, el('body', NS.CLIENT, {}, 'hello'));
    expect(h.step({ type: 'ROUTE_IN', stanza: inbound })).toEqual([{ type: 'send', element: inbound }]);

    // §4.4: the client closes first; we answer with our closing tag and close TCP
    expect(h.step({ type: 'STREAM_CLOSE' })).toEqual([
      { type: 'closeStream' },
      { type: 'closeSocket' },
      { type: 'ended', outcome: { kind: 'closed', rfc: '6120 §4.4' } },
    ]);
    expect(h.done).toBe(true);
    expect(h.actor.getSnapshot().output).toEqual({ kind: 'closed', rfc: '6120 §4.4' });
  });

  it('§7.6.1 a server-generated resourcepart is random and returned in <jid/>', () => {
    const h = startServer();
    throughTls(h);
    plainAuth(h);
    h.send(header());
    const query = h.step(bindIq('b2'));
    expect(query).toHaveLength(1);
    const q = query[0]!;
    if (q.type !== 'queryResource') throw new Error('expected queryResource');
    expect(q.resource).toMatch(/^[0-9a-f]{16}$/);
    const bound = h.step({ type: 'RESOURCE_STATUS', resource: q.resource, inUse: false, boundCount: 3 });
    expect(bound[0]).toEqual({ type: 'bound', jid: `${USER}@${DOMAIN}/${q.resource}`, replace: false });
    expect(text(child(child(sent(bound)[0]!, 'bind', NS.BIND)!, 'jid', NS.BIND)!)).toBe(`${USER}@${DOMAIN}/${q.resource}`);
    // a second stream gets a different resource
    const h2 = startServer({ random: ((seed) => () => new Uint8Array(8).fill(seed++))(5) });
    throughTls(h2);
    plainAuth(h2);
    h2.send(header());
    const q2 = h2.step(bindIq('b2'))[0];
    expect(q2?.type === 'queryResource' && q2.resource).not.toBe(q.resource);
  });

  it('§6.4.2 PLAIN after TLS, with an initial response', () => {
    const h = startServer();
    throughTls(h);
    const out = plainAuth(h);
    expect(types(out)).toEqual(['lookupCredentials', 'send:success', 'authenticated', 'resetParser']);
    expect(sent(out)[0]).toEqual(el('success', NS.SASL)); // PLAIN has no additional data
    expect(h.at()).toEqual(['open.negotiating.awaitingStreamHeader']);
  });

  it('§6.4.2 SCRAM-SHA-1 (RFC 5802), the mandatory-to-implement mechanism (§13.8)', () => {
    const h = startServer();
    throughTls(h);
    expect(types(scramAuth(h, 'SCRAM-SHA-1'))).toEqual(['lookupCredentials', 'send:challenge', 'send:success', 'authenticated', 'resetParser']);
  });

  it('§6.3.10 / §6.4.2 auth without an initial response: an empty challenge, then the first message as <response/>', () => {
    const h = startServer();
    throughTls(h);
    expect(types(scramAuth(h, 'SCRAM-SHA-256', { initialResponse: false }))).toEqual([
      'lookupCredentials',
      'send:challenge',
      'send:success',
      'authenticated',
      'resetParser',
    ]);
    expect(sent(h.all).find((e) => e.name === 'challenge')).toEqual(el('challenge', NS.SASL)); // empty challenge, no text
    const p = startServer();
    throughTls(p);
    expect(sent(p.step(auth('PLAIN')))).toEqual([el('challenge', NS.SASL)]);
    expect(types(p.step(response(plainData(USER, 'r0m30myr0m30'))))).toEqual(['lookupCredentials']);
    expect(types(p.step({ type: 'CREDENTIALS', username: USER, credentials: credentials() }))).toEqual([
      'send:success',
      'authenticated',
      'resetParser',
    ]);
  });

  it("§6.4.2 '=' is an initial response that is present and empty: PLAIN and SCRAM reject it as malformed-request (§6.5.8)", () => {
    for (const mech of ['PLAIN', 'SCRAM-SHA-256'] as const) {
      const h = startServer();
      throughTls(h);
      expect(saslFailureOf(h.step(auth(mech, '=')))).toBe('malformed-request');
    }
  });

  it('§6.4.1 / §5.4.1 TLS optional: SCRAM directly on the unencrypted stream, then bind', () => {
    const h = startServer({ tls: 'optional' });
    const f = sent(h.step(header()))[0]!;
    expect(child(f, 'starttls', NS.TLS)).toEqual(el('starttls', NS.TLS)); // voluntary: no <required/>
    expect(types(scramAuth(h, 'SCRAM-SHA-1'))).toContain('send:success');
  });

  it('§5.4.1 TLS optional: the client may still choose STARTTLS', () => {
    const h = startServer({ tls: 'optional' });
    h.send(header());
    expect(types(h.step(starttls()))).toEqual(['send:proceed', 'startTls']);
  });

  it('direct TLS (secure input): no STARTTLS, mechanisms straight away', () => {
    const h = startServer({ tls: 'required', secure: true });
    const f = sent(h.step(header()))[0]!;
    expect(child(f, 'starttls', NS.TLS)).toBeUndefined();
    expect(child(f, 'mechanisms', NS.SASL)).toBeDefined();
  });

  it("§6.4.2 a new <auth/> discards the handshake in progress; a stale CREDENTIALS answer is ignored", () => {
    const h = startServer();
    throughTls(h);
    h.send(auth('SCRAM-SHA-256', undefined));
    expect(types(h.step(auth('PLAIN', plainData('romeo', 'x'))))).toEqual(['lookupCredentials']);
    expect(h.step({ type: 'CREDENTIALS', username: USER, credentials: credentials() })).toEqual([]); // not the name asked for
    expect(saslFailureOf(h.step({ type: 'CREDENTIALS', username: 'romeo', credentials: null }))).toBe('not-authorized');
  });

  it('§4.7.4 the stanza xml:lang defaults to the one of the initial stream header', () => {
    const h = startServer();
    h.send(header({ lang: 'de' }));
    h.send(starttls());
    h.send({ type: 'TLS_ESTABLISHED' });
    h.send(header({ lang: 'de' }));
    plainAuth(h);
    h.send(header({ lang: 'de' }));
    h.send(bindIq('b', 'r'));
    h.send({ type: 'RESOURCE_STATUS', resource: 'r', inUse: false, boundCount: 0 });
    const d = h.step(message())[0];
    expect(d?.type === 'deliver' && d.stanza.attrs['xml:lang']).toBe('de');
  });

  it('§6.4.6 (SHOULD): the authenticated identity must match a TLS-protected stream from', () => {
    const h = startServer();
    h.send(header());
    h.send(starttls());
    h.send({ type: 'TLS_ESTABLISHED' });
    h.send(header({ from: `romeo@${DOMAIN}` }));
    expect(saslFailureOf(plainAuth(h))).toBe('not-authorized');
  });

  it('§8.1.2.1: XEP-0199 pings from the client are routed like any stanza (answered by the router)', () => {
    const h = startServer();
    throughTls(h);
    plainAuth(h);
    h.send(header());
    h.send(bindIq('b', 'r'));
    h.send({ type: 'RESOURCE_STATUS', resource: 'r', inUse: false, boundCount: 0 });
    const ping = el('iq', NS.CLIENT, { id: 'p', type: 'get', to: DOMAIN }, el('ping', NS.PING));
    expect(types(h.step(element(ping)))).toEqual(['deliver']);
  });
});
