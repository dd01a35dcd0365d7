/**
 * The initiating server negotiates: its header and the checks on the response (RFC 6120
 * §4.7), STARTTLS and the receiving server's certificate (§5.3.1, §5.4, §13.7.2.1) under both
 * policies, SASL EXTERNAL (XEP-0178 §3) and what happens when nothing can authenticate us.
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../../machines/ns.js';
import { fromBase64 } from '../../../../machines/sasl/encoding.js';
import { DEFAULT_DIALBACK_POLICY } from '../../../../machines/dialback/policy.js';
import { text } from '../../../../machines/xml.js';
import {
  OURS,
  PEER,
  certificate,
  challenge,
  commandOf,
  dialbackFeature,
  features,
  mechanisms,
  proceed,
  responseHeader,
  saslFailure,
  sentOf,
  startServer,
  starttlsFeature,
  streamErrorOf,
  success,
  throughTls,
  tlsEstablished,
  tlsFailure,
  types,
  viaExternal,
} from './harness.js';

const certificatesRequired = { dialback: { ...DEFAULT_DIALBACK_POLICY, dialbackAllowed: false } };
const decoded = (s: string) => new TextDecoder().decode(fromBase64(s));

describe('initiating server: headers (RFC 6120 §4.7)', () => {
  it("RFC 6120 §4.7.1, §4.7.2: our header: 'from' our domain, 'to' the remote one, jabber:server, version 1.0, no id", () => {
    const h = startServer();
    expect(commandOf(h.cmds(), 'openStream').header).toEqual({ from: OURS, to: PEER, version: '1.0', lang: 'en', contentNamespace: NS.SERVER });
    expect(h.at()).toEqual(['open.negotiating.awaitingStreamHeader']);
  });

  it('RFC 6120 §4.7.3, §4.9.3.1: a response without an id (dialback signs it) is bad-format', () => {
    const h = startServer();
    h.send(responseHeader({ id: undefined }));
    expect(streamErrorOf(h.all)).toBe('bad-format');
    expect(h.at()).toEqual(['closing']);
  });

  it("RFC 6120 §4.9.3.9: a response 'from' another domain than our 'to' is invalid-from; §4.9.3.10 jabber:client is invalid-namespace", () => {
    const a = startServer();
    a.send(responseHeader({ from: 'evil.example' }));
    expect(streamErrorOf(a.all)).toBe('invalid-from');
    const b = startServer();
    b.send(responseHeader({ contentNamespace: NS.CLIENT }));
    expect(streamErrorOf(b.all)).toBe('invalid-namespace');
  });

  it('RFC 6120 §4.7.1: input domains that are not domains end the machine before it connects', () => {
    const h = startServer({ remoteDomain: 'romeo@montague.example' });
    expect(h.done).toBe(true);
    expect(types(h.cmds())).toEqual(['ended']);
    expect(h.ended()).toMatchObject({ kind: 'closed', condition: 'invalid-from', bounce: 'remote-server-timeout' });
  });
});

describe('initiating server: STARTTLS and the certificate (RFC 6120 §5.3.1, §5.4, §13.7.2.1)', () => {
  it('RFC 6120 §5.4.2.1, §5.4.3.3: starttls, proceed, handshake, then the restart with a new header', () => {
    const h = startServer();
    h.send(responseHeader());
    expect(sentOf(h.stepS2s(features(starttlsFeature())))).toMatchObject([{ name: 'starttls', xmlns: NS.TLS }]);
    expect(types(h.stepS2s(proceed()))).toEqual(['startTls']);
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.handshake']);
    expect(types(h.stepS2s(tlsEstablished(certificate([PEER]))))).toEqual(['resetParser', 'openStream']);
    expect(h.actor.getSnapshot().context).toMatchObject({ secured: true, peerAuthenticated: true, streamId: undefined });
  });

  it('RFC 6120 §5.3.1, §4.9.3.14: TLS required and not offered → policy-violation, the outcome says tls-failed', () => {
    const h = startServer();
    h.send(responseHeader());
    h.send(features(mechanisms('EXTERNAL'), dialbackFeature()));
    expect(streamErrorOf(h.all)).toBe('policy-violation');
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.ended()).toMatchObject({ kind: 'tls-failed', condition: 'policy-violation', rfc: '6120 §5.3.1', bounce: 'remote-server-timeout' });
  });

  it('RFC 6120 §5.3.1: TLS optional and not offered: dialback on the plain stream; with certificates required TLS is required anyway', () => {
    const h = startServer({ tls: 'optional' });
    h.send(responseHeader());
    expect(sentOf(h.stepS2s(features(dialbackFeature())))).toMatchObject([{ name: 'result', xmlns: NS.DIALBACK }]);
    const c = startServer({ tls: 'optional', ...certificatesRequired });
    c.send(responseHeader());
    c.send(features(dialbackFeature()));
    expect(streamErrorOf(c.all)).toBe('policy-violation');
  });

  it('RFC 6120 §5.4.2.2: <failure/> → our closing tag, then the peer closes TCP', () => {
    const h = startServer();
    h.send(responseHeader());
    h.send(features(starttlsFeature()));
    expect(types(h.stepS2s(tlsFailure()))).toEqual(['closeStream']);
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.ended()).toMatchObject({ kind: 'tls-failed', rfc: '6120 §5.4.2.2', condition: 'failure' });
  });

  it('RFC 6120 §13.7.2, §13.7.2.1: certificates required and the certificate names another domain: TCP is terminated, no stream', () => {
    const h = startServer(certificatesRequired);
    expect(types(throughTls(h, certificate(['other.example'])))).toEqual(['closeSocket', 'ended']);
    expect(h.ended()).toMatchObject({ kind: 'tls-failed', condition: 'certificate', rfc: '6120 §13.7.2', bounce: 'remote-server-timeout' });
    expect(h.ended()?.text).toMatch(/does not identify xmpp-server service 'montague.example'/);
  });

  it('RFC 6120 §13.7.2: certificates required and an untrusted chain, or none: the same', () => {
    for (const cert of [certificate([PEER], false), undefined]) {
      const h = startServer(certificatesRequired);
      h.send(responseHeader());
      h.send(features(starttlsFeature()));
      h.send(proceed());
      h.send(tlsEstablished(cert));
      expect(h.done).toBe(true);
      expect(h.ended()?.kind).toBe('tls-failed');
    }
  });

  it('XEP-0220 §1.2: dialback allowed and the certificate does not authenticate the peer: TLS encrypts, dialback authenticates', () => {
    const h = startServer();
    expect(types(throughTls(h, certificate(['other.example'])))).toEqual(['resetParser', 'openStream']);
    expect(h.actor.getSnapshot().context.peerAuthenticated).toBe(false);
    h.send(responseHeader());
    expect(sentOf(h.stepS2s(features(mechanisms('EXTERNAL'), dialbackFeature())))).toMatchObject([{ name: 'auth' }]);
  });

  it('XEP-0368: direct TLS with certificates required: the certificate is checked before the first header', () => {
    const bad = startServer({ ...certificatesRequired, secure: true, peerCertificate: certificate(['other.example']) });
    expect(types(bad.cmds())).toEqual(['closeSocket', 'ended']);
    const good = startServer({ ...certificatesRequired, secure: true, peerCertificate: certificate([PEER]) });
    good.send(responseHeader());
    expect(sentOf(good.stepS2s(features(mechanisms('EXTERNAL'))))).toMatchObject([{ name: 'auth' }]);
  });
});

describe('initiating server: SASL EXTERNAL (RFC 6120 §6, XEP-0178 §3)', () => {
  it("XEP-0178 §3 steps 10-11: <auth mechanism='EXTERNAL'> with our domain as authzid, success, restart, features → authenticated", () => {
    const h = startServer();
    throughTls(h);
    h.send(responseHeader());
    const [auth] = sentOf(h.stepS2s(features(mechanisms('EXTERNAL'), dialbackFeature())));
    expect(auth).toMatchObject({ name: 'auth', xmlns: NS.SASL, attrs: { mechanism: 'EXTERNAL' } });
    expect(decoded(text(auth!))).toBe(OURS);
    expect(types(h.stepS2s(success()))).toEqual(['resetParser', 'openStream']);
    h.send(responseHeader({ id: 'after-sasl' }));
    expect(h.stepS2s(features())).toEqual([{ type: 'authenticated', from: OURS, to: PEER, method: 'sasl-external' }]);
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);
  });

  it("XEP-0178 §3 step 10: without the authzid policy the initial response is '=' (RFC 6120 §6.4.2)", () => {
    const h = startServer({ externalAuthzid: false });
    throughTls(h);
    h.send(responseHeader());
    expect(text(sentOf(h.stepS2s(features(mechanisms('EXTERNAL'))))[0]!)).toBe('=');
  });

  it('RFC 6120 §6.4.3: a challenge is answered with the authzid again', () => {
    const h = startServer();
    throughTls(h);
    h.send(responseHeader());
    h.send(features(mechanisms('EXTERNAL')));
    const [response] = sentOf(h.stepS2s(challenge()));
    expect(response).toMatchObject({ name: 'response', xmlns: NS.SASL });
    expect(decoded(text(response!))).toBe(OURS);
  });

  it('XEP-0178 §3 step 11b: <failure/> with dialback allowed and offered → Step 1 on the same stream', () => {
    const h = startServer();
    throughTls(h);
    h.send(responseHeader());
    h.send(features(mechanisms('EXTERNAL'), dialbackFeature()));
    expect(sentOf(h.stepS2s(saslFailure('not-authorized')))).toMatchObject([{ name: 'result', xmlns: NS.DIALBACK, attrs: { from: OURS, to: PEER } }]);
    expect(h.at()).toEqual(['open.negotiating.dialback']);
  });

  it('RFC 6120 §6.4.5: <failure/> with certificates required → close, the condition in the outcome', () => {
    const h = startServer(certificatesRequired);
    throughTls(h);
    h.send(responseHeader());
    h.send(features(mechanisms('EXTERNAL'), dialbackFeature()));
    expect(types(h.stepS2s(saslFailure('not-authorized')))).toEqual(['closeStream']);
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.ended()).toMatchObject({ kind: 'auth-failed', condition: 'not-authorized', rfc: '6120 §6.4.5', bounce: 'remote-server-timeout' });
  });

  it('XEP-0178 §3: certificates required and no EXTERNAL offered (or no certificate of ours) → a plain close saying why', () => {
    for (const [input, offer] of [[{}, features(dialbackFeature())], [{ certificate: false }, features(mechanisms('EXTERNAL'))]] as const) {
      const h = startServer({ ...certificatesRequired, ...input });
      throughTls(h);
      h.send(responseHeader());
      expect(types(h.stepS2s(offer))).toEqual(['closeStream']);
      h.send({ type: 'STREAM_CLOSE' });
      expect(h.ended()).toMatchObject({ kind: 'auth-failed', condition: 'certificate-required', rfc: 'XEP-0178 §3' });
    }
  });

  it('XEP-0220 §2.4.2: neither EXTERNAL nor the dialback feature → a plain close, no-authentication', () => {
    const h = startServer({ certificate: false });
    throughTls(h);
    h.send(responseHeader());
    expect(types(h.stepS2s(features(mechanisms('EXTERNAL'))))).toEqual(['closeStream']);
    expect(streamErrorOf(h.all)).toBeUndefined();
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.ended()).toMatchObject({ kind: 'auth-failed', condition: 'no-authentication' });
  });

  it('RFC 6120 §4.3.5: viaExternal leaves the stream established, authenticated by EXTERNAL', () => {
    const h = startServer();
    viaExternal(h);
    expect(h.actor.getSnapshot().context.authenticated).toBe('sasl-external');
  });
});
