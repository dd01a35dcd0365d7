/**
 * The receiving server negotiates: the header (RFC 6120 §4.7 on 'jabber:server'), STARTTLS
 * (§5), features (§4.3.2) and SASL EXTERNAL (§6.4, §6.5 with XEP-0178 §3).
 */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../../machines/ns.js';
import { child, text } from '../../../../machines/xml.js';
import { DEFAULT_DIALBACK_POLICY } from '../../../../machines/dialback/policy.js';
import {
  LOCAL,
  OTHER_LOCAL,
  PEER,
  abort,
  auth,
  b64,
  certificate,
  conditionIn,
  header,
  response,
  sent,
  startServer,
  starttls,
  stepS2s,
  streamErrorOf,
  throughTls,
  tlsEstablished,
  types,
} from './harness.js';

const saslFailureOf = (cmds: Parameters<typeof sent>[0]) => conditionIn(sent(cmds).find((e) => e.name === 'failure' && e.xmlns === NS.SASL), NS.SASL);
const featuresOf = (cmds: Parameters<typeof sent>[0]) => sent(cmds).find((e) => e.name === 'features')!;
const certificatesOnly = { dialback: { ...DEFAULT_DIALBACK_POLICY, dialbackAllowed: false } };

describe('receiving server: the initial header (RFC 6120 §4.7, §4.9.1.2)', () => {
  it('RFC 6120 §4.7.1-§4.7.3: the response names our domain asked for and the peer, with a fresh id; TLS required first (§5.3.1)', () => {
    const h = startServer();
    const out = stepS2s(h, header({ to: OTHER_LOCAL }));
    expect(types(out as never)).toEqual(['openStream', 'send:features']);
    const open = out[0]!;
    expect(open.type === 'openStream' && open.header).toMatchObject({ from: OTHER_LOCAL, to: PEER, version: '1.0', contentNamespace: NS.SERVER });
    const features = featuresOf(out as never);
    expect(features.children).toHaveLength(1);
    expect(child(child(features, 'starttls', NS.TLS)!, 'required', NS.TLS)).toBeDefined();
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.featuresSent']);
  });

  it.each([
    ['RFC 6120 §4.9.3.6: a domain we do not service → host-unknown, from our first domain (§4.9.1.3)', { to: 'example.org' }, 'host-unknown'],
    ['RFC 6120 §4.9.3.10: a jabber:client header → invalid-namespace', { contentNamespace: NS.CLIENT }, 'invalid-namespace'],
    ['RFC 6120 §4.9.3.25: no version → unsupported-version', { version: undefined }, 'unsupported-version'],
    ["RFC 6120 §4.9.3.9: 'from' with a localpart → invalid-from", { from: `romeo@${PEER}` }, 'invalid-from'],
  ] as const)('%s', (_title, over, condition) => {
    const h = startServer();
    const out = stepS2s(h, header(over));
    expect(types(out as never)).toEqual(['openStream', 'send:error', 'closeStream']);
    expect(streamErrorOf(out as never)).toBe(condition);
    const open = out[0]!;
    expect(open.type === 'openStream' && open.header.from).toBe(LOCAL);
    expect(h.at()).toEqual(['closing']);
    stepS2s(h, { type: 'STREAM_CLOSE' });
    expect(h.outcome).toMatchObject({ kind: 'error-sent', condition });
  });
});

describe('receiving server: STARTTLS (RFC 6120 §5, XEP-0178 §3 steps 3-8)', () => {
  it('RFC 6120 §5.4.2.3, §5.4.3.3: <proceed/>, TLS, the restart; then EXTERNAL (the certificate matches) and dialback with errors, none required', () => {
    const h = startServer();
    h.send(header());
    expect(types(stepS2s(h, starttls()) as never)).toEqual(['send:proceed', 'startTls']);
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.handshake']);
    expect(stepS2s(h, tlsEstablished())).toEqual([]);
    const out = stepS2s(h, header());
    const features = featuresOf(out as never);
    expect(features.children.map((c) => typeof c !== 'string' && `${c.name} ${c.xmlns}`)).toEqual([`mechanisms ${NS.SASL}`, `dialback ${NS.DIALBACK_FEATURES}`]);
    expect(text(child(child(features, 'mechanisms', NS.SASL)!, 'mechanism', NS.SASL)!)).toBe('EXTERNAL');
    expect(child(child(features, 'dialback', NS.DIALBACK_FEATURES)!, 'errors', NS.DIALBACK_FEATURES)).toBeDefined();
    expect(JSON.stringify(features)).not.toContain('"required"');
    expect(JSON.stringify(features)).not.toContain(NS.BIND);
    expect(h.at()).toEqual(['open.negotiating.authenticating.featuresSent']);
  });

  it('RFC 6120 §5.4.3.3 rule 1: plaintext during the handshake is never processed; §5.4.3.1: FAIL closes TCP only', () => {
    const h = startServer();
    h.send(header());
    h.send(starttls());
    expect(stepS2s(h, auth('EXTERNAL', '='))).toEqual([]);
    expect(types(stepS2s(h, { type: 'FAIL', condition: 'internal-server-error' }) as never)).toEqual(['closeSocket', 'ended']);
  });

  it('RFC 6120 §6.5.4, §5.3.1: <auth/> before the required TLS → encryption-required, still waiting for <starttls/>', () => {
    const h = startServer();
    h.send(header());
    expect(saslFailureOf(stepS2s(h, auth('EXTERNAL', '=')) as never)).toBe('encryption-required');
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.featuresSent']);
  });

  it('RFC 6120 §5.4.2.2: STARTTLS again after TLS (not offered) → TLS <failure/> and close', () => {
    const h = startServer();
    throughTls(h);
    expect(types(stepS2s(h, starttls()) as never)).toEqual(['send:failure', 'closeStream']);
    expect(h.at()).toEqual(['closing']);
  });

  it('RFC 6120 §5.4.1: TLS optional: a voluntary <starttls/> beside dialback; EXTERNAL only after TLS (no certificate before it)', () => {
    const h = startServer({ tls: 'optional' });
    const features = featuresOf(stepS2s(h, header()) as never);
    expect(features.children.map((c) => typeof c !== 'string' && c.name)).toEqual(['starttls', 'dialback']);
    expect(child(features, 'starttls', NS.TLS)!.children).toEqual([]);
    expect(saslFailureOf(stepS2s(h, auth('EXTERNAL', '=')) as never)).toBe('encryption-required');
    expect(types(stepS2s(h, starttls()) as never)).toEqual(['send:proceed', 'startTls']);
  });

  it('RFC 6120 §5.3.1: certificates required makes TLS required even when policy says optional', () => {
    const h = startServer({ tls: 'optional', ...certificatesOnly });
    const features = featuresOf(stepS2s(h, header()) as never);
    expect(child(child(features, 'starttls', NS.TLS)!, 'required', NS.TLS)).toBeDefined();
  });

  it('RFC 6120 §4.6.2, §5.4.3.1: a silent handshake is closed without XML', () => {
    const h = startServer();
    h.send(header());
    h.send(starttls());
    expect(types(h.advance(60_000) as never)).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'timeout', condition: 'connection-timeout' });
  });
});

describe('receiving server: SASL EXTERNAL (RFC 6120 §6.4, XEP-0178 §3)', () => {
  it('XEP-0178 §3 steps 10-11a: authzid "=" means the header\'s from; <success/>, restart, features without mechanisms, established for the pair', () => {
    const h = startServer();
    throughTls(h);
    const out = stepS2s(h, auth('EXTERNAL', '='));
    expect(types(out as never)).toEqual(['send:success', 'authenticated', 'resetParser']);
    expect(out[1]).toEqual({ type: 'authenticated', from: PEER, to: LOCAL, method: 'sasl-external' });
    expect(h.at()).toEqual(['open.negotiating.awaitingStreamHeader']);
    const restart = stepS2s(h, header());
    expect(types(restart as never)).toEqual(['openStream', 'send:features']);
    const features = featuresOf(restart as never);
    expect(child(features, 'mechanisms', NS.SASL)).toBeUndefined();
    expect(child(features, 'dialback', NS.DIALBACK_FEATURES)).toBeDefined();
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);
  });

  it('RFC 6120 §6.4.6, §4.3.5: after SASL with dialback refused, the features are empty: negotiation complete', () => {
    const h = startServer(certificatesOnly);
    throughTls(h);
    h.send(auth('EXTERNAL', '='));
    expect(featuresOf(stepS2s(h, header()) as never).children).toEqual([]);
  });

  it('RFC 6120 §6.3.8: an authzid naming the header\'s from is accepted', () => {
    const h = startServer();
    throughTls(h);
    expect(stepS2s(h, auth('EXTERNAL', b64(PEER)))[1]).toMatchObject({ type: 'authenticated', from: PEER });
  });

  it('RFC 6120 §6.4.2, §6.4.3: no initial response: an empty challenge, the authzid in <response/>', () => {
    const h = startServer();
    throughTls(h);
    const challenge = stepS2s(h, auth('EXTERNAL'));
    expect(sent(challenge as never).map((e) => [e.name, e.children])).toEqual([['challenge', []]]);
    expect(h.at()).toEqual(['open.negotiating.authenticating.challengeSent']);
    expect(types(stepS2s(h, response('=')) as never)).toEqual(['send:success', 'authenticated', 'resetParser']);
  });

  it.each([
    ['RFC 6120 §6.5.6: an authzid other than the header\'s from → invalid-authzid', () => auth('EXTERNAL', b64('example.org')), 'invalid-authzid'],
    ['RFC 6120 §6.5.6, §6.3.8: an authzid that is not a domainpart → invalid-authzid', () => auth('EXTERNAL', b64(`admin@${PEER}`)), 'invalid-authzid'],
    ['RFC 6120 §6.5.7: another mechanism → invalid-mechanism', () => auth('PLAIN', b64('\0u\0p')), 'invalid-mechanism'],
    ['RFC 6120 §6.5.7: no mechanism → invalid-mechanism', () => auth(undefined, '='), 'invalid-mechanism'],
    ['RFC 6120 §6.5.5: not base 64 → incorrect-encoding', () => auth('EXTERNAL', '!!'), 'incorrect-encoding'],
    ['RFC 6120 §6.4.4, §6.5.1: <abort/> → aborted', () => abort(), 'aborted'],
    ['RFC 6120 §6.5.8: <response/> with no challenge → malformed-request', () => response('='), 'malformed-request'],
  ] as const)('%s', (_title, make, condition) => {
    const h = startServer();
    throughTls(h);
    const out = stepS2s(h, make());
    expect(saslFailureOf(out as never)).toBe(condition);
    expect(out.some((c) => c.type === 'authenticated')).toBe(false);
    expect(h.at()).toEqual(['open.negotiating.authenticating.featuresSent']);
  });

  it('XEP-0178 §3 step 9, step 11b: a certificate for another domain: no EXTERNAL offered, and <auth/> anyway → not-authorized; dialback stays possible', () => {
    const h = startServer();
    const features = featuresOf(throughTls(h, certificate(['example.org'])) as never);
    expect(child(features, 'mechanisms', NS.SASL)).toBeUndefined();
    expect(child(features, 'dialback', NS.DIALBACK_FEATURES)).toBeDefined();
    expect(saslFailureOf(stepS2s(h, auth('EXTERNAL', '=')) as never)).toBe('not-authorized');
  });

  it('RFC 6120 §13.7.2.1, XEP-0178 §3 step 7: an untrusted chain authenticates nothing, even with the right name', () => {
    const h = startServer();
    expect(child(featuresOf(throughTls(h, certificate([PEER], false)) as never), 'mechanisms', NS.SASL)).toBeUndefined();
    expect(saslFailureOf(stepS2s(h, auth('EXTERNAL', '=')) as never)).toBe('not-authorized');
  });

  it("RFC 6120 §6.5.10: no 'from' and no authzid: nothing to authenticate → not-authorized; an authzid the certificate proves → success", () => {
    const h = startServer();
    throughTls(h, certificate([PEER]), { from: undefined });
    expect(saslFailureOf(stepS2s(h, auth('EXTERNAL', '=')) as never)).toBe('not-authorized');
    expect(stepS2s(h, auth('EXTERNAL', b64(PEER)))[1]).toMatchObject({ type: 'authenticated', from: PEER, to: LOCAL });
  });

  it('RFC 6120 §6.4.5, §4.9.3.14: the third failure is followed by a <policy-violation/> stream error', () => {
    const h = startServer();
    throughTls(h, certificate(['example.org']));
    h.send(auth('EXTERNAL', '='));
    h.send(auth('EXTERNAL', '='));
    const out = stepS2s(h, auth('EXTERNAL', '='));
    expect(types(out as never)).toEqual(['send:failure', 'send:error', 'closeStream']);
    expect(streamErrorOf(out as never)).toBe('policy-violation');
    expect(h.at()).toEqual(['closing']);
  });

  it('XEP-0178 §3 step 9, RFC 6120 §4.9.3.12: certificates required and the certificate does not match: <not-authorized/> at the header', () => {
    const h = startServer(certificatesOnly);
    const out = throughTls(h, certificate(['example.org']));
    expect(types(out as never)).toEqual(['openStream', 'send:error', 'closeStream']);
    expect(streamErrorOf(out as never)).toBe('not-authorized');
  });

  it('RFC 6120 §4.9.3.12: a SASL element after SASL succeeded → not-authorized', () => {
    const h = startServer();
    throughTls(h);
    h.send(auth('EXTERNAL', '='));
    h.send(header());
    expect(streamErrorOf(stepS2s(h, auth('EXTERNAL', '=')) as never)).toBe('not-authorized');
  });

  it('RFC 6120 §4.9.3.4, §4.6.2: a peer that never authenticates gets connection-timeout', () => {
    const h = startServer();
    throughTls(h);
    const out = h.advance(60_000);
    expect(streamErrorOf(out)).toBe('connection-timeout');
    expect(h.at()).toEqual(['closing']);
  });
});
