/**
 * Server Dialback on the receiving server's stream (XEP-0220 §2.2): one pair machine per
 * domain pair, the Step 2 request as a command, the Step 3 answer as an event, the
 * Authoritative Server's answers on this stream, and the "certificates required" policy.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIALBACK_POLICY, dialbackKey, parseResult, parseVerify, resultAnswer } from '../../../../machines/dialback/index.js';
import { NS } from '../../../../machines/ns.js';
import {
  LOCAL,
  OTHER_LOCAL,
  OUR_SECRET,
  PEER,
  authoritativeAnswer,
  certificate,
  conditionIn,
  dbResult,
  dbVerify,
  element,
  header,
  message,
  sent,
  startServer,
  stepS2s,
  streamErrorOf,
  streamIdOf,
  throughTls,
  types,
  verifyCommand,
  type Harness,
} from './harness.js';

const ESTABLISHED = ['open.established.stanzas.exchanging', 'open.established.liveness.idle'];
const resultOf = (cmds: Parameters<typeof sent>[0]) => {
  const r = sent(cmds).find((e) => e.name === 'result' && e.xmlns === NS.DIALBACK);
  const p = r && parseResult(r);
  return p?.ok ? p.value : undefined;
};

/** Step 1 → Step 2 (the verify command) → Step 3 from the peer's Authoritative Server → our Step 4. */
function dialback(h: Harness, opts: { from?: string; to?: string; key?: string } = {}) {
  const step2 = stepS2s(h, dbResult(h, opts));
  const verify = verifyCommand(step2);
  return { verify, step4: stepS2s(h, { type: 'VERIFY_ANSWER', answer: authoritativeAnswer(verify.element) }) };
}

describe('receiving server: dialback (XEP-0220 §2.2.1, §2.1.2)', () => {
  it("XEP-0220 §2.2.1, §2.1.2: Step 1 → a verify command (Step 2) to the Sender's Authoritative Server → Step 3 valid → Step 4 valid, authenticated, established", () => {
    const h = startServer();
    throughTls(h, certificate(['example.org'])); // no certificate for PEER: dialback is the way
    const id = streamIdOf(h);
    const { verify, step4 } = dialback(h);
    expect(verify.authoritative).toBe(PEER);
    const request = parseVerify(verify.element);
    expect(request.ok && request.value).toEqual({ kind: 'request', from: LOCAL, to: PEER, id, key: dialbackKey('the peer dialback secret', LOCAL, PEER, id) });
    expect(types(step4 as never)).toEqual(['send:result', 'authenticated']);
    expect(resultOf(step4 as never)).toEqual({ kind: 'valid', from: LOCAL, to: PEER });
    expect(step4[1]).toEqual({ type: 'authenticated', from: PEER, to: LOCAL, method: 'dialback' });
    expect(h.at()).toEqual(ESTABLISHED);
    expect(types(stepS2s(h, message()) as never)).toEqual(['deliver']);
  });

  it("XEP-0220 §2.2.1: a forged key: Step 3 invalid → Step 4 type='invalid', pairRejected, the stream closed (RFC 6120 §4.4)", () => {
    const h = startServer();
    throughTls(h);
    const { step4 } = dialback(h, { key: 'f'.repeat(64) });
    expect(types(step4 as never)).toEqual(['send:result', 'pairRejected', 'closeStream']);
    expect(resultOf(step4 as never)).toEqual({ kind: 'invalid', from: LOCAL, to: PEER });
    expect(step4[1]).toMatchObject({ type: 'pairRejected', from: PEER, to: LOCAL, closeStream: true });
    expect(h.at()).toEqual(['closing']);
    // Nothing from the rejected pair is accepted while the peer closes (§4.4 rule 2).
    expect(stepS2s(h, message())).toEqual([]);
    expect(types(stepS2s(h, { type: 'STREAM_CLOSE' }) as never)).toEqual(['closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'closed' });
  });

  it('XEP-0220 §2.2.1, §2.5: a forged key for a second pair while one is verified → <forbidden/>, the stream and the first pair stay', () => {
    const h = startServer();
    throughTls(h);
    dialback(h);
    const { step4 } = dialback(h, { to: OTHER_LOCAL, key: 'f'.repeat(64) });
    const r = resultOf(step4 as never);
    expect(r?.kind === 'error' && r.error.condition).toBe('forbidden');
    expect(step4[1]).toMatchObject({ type: 'pairRejected', closeStream: false });
    expect(h.at()).toEqual(ESTABLISHED);
    expect(types(stepS2s(h, message()) as never)).toEqual(['deliver']);
  });

  it('XEP-0220 §2.6: target multiplexing: a second pair authenticated on the established stream', () => {
    const h = startServer();
    throughTls(h);
    dialback(h);
    const { step4 } = dialback(h, { to: OTHER_LOCAL });
    expect(step4[1]).toEqual({ type: 'authenticated', from: PEER, to: OTHER_LOCAL, method: 'dialback' });
    expect(types(stepS2s(h, message({ to: `room@${OTHER_LOCAL}` })) as never)).toEqual(['deliver']);
  });

  it('XEP-0220 §2.2.1: a second key for a pair being verified is ignored (one Step 2 only)', () => {
    const h = startServer();
    throughTls(h);
    h.send(dbResult(h));
    expect(stepS2s(h, dbResult(h))).toEqual([]);
  });

  it('XEP-0220 §2.2.1, §2.5: a Target Domain we do not host → item-not-found dialback error, the stream stays', () => {
    const h = startServer();
    throughTls(h);
    const out = stepS2s(h, dbResult(h, { to: 'example.org' }));
    const r = resultOf(out as never);
    expect(r?.kind === 'error' && r.error.condition).toBe('item-not-found');
    expect(out[1]).toMatchObject({ type: 'pairFailed', condition: 'item-not-found' });
    expect(h.at()).toEqual(['open.negotiating.authenticating.featuresSent']);
  });

  it('XEP-0220 §2.5, §2.1.2: the Authoritative Server cannot be reached → remote-connection-failed; the pair may try again', () => {
    const h = startServer();
    throughTls(h);
    h.send(dbResult(h));
    const out = stepS2s(h, { type: 'VERIFY_FAILED', from: PEER, to: LOCAL, reason: 'connection-failed' });
    const r = resultOf(out as never);
    expect(r?.kind === 'error' && r.error.condition).toBe('remote-connection-failed');
    expect(types(stepS2s(h, dbResult(h)) as never)).toEqual(['verify']);
  });

  it('XEP-0220 §2.5: no Step 3 within the dialback timeout → remote-server-timeout', () => {
    const h = startServer();
    throughTls(h);
    h.send(dbResult(h));
    const r = resultOf(h.advance(DEFAULT_DIALBACK_POLICY.dialbackTimeout));
    expect(r?.kind === 'error' && r.error.condition).toBe('remote-server-timeout');
  });

  it('XEP-0220 §3.1: a Step 3 answer for no pair being verified, and a type on an incoming stream, are ignored', () => {
    const h = startServer();
    throughTls(h);
    expect(stepS2s(h, { type: 'VERIFY_ANSWER', answer: { kind: 'valid', from: PEER, to: LOCAL, id: 'x' } })).toEqual([]);
    expect(stepS2s(h, element(resultAnswer(PEER, LOCAL, 'valid')))).toEqual([]);
    expect(h.at()).toEqual(['open.negotiating.authenticating.featuresSent']);
  });

  it('RFC 6120 §4.9.3.1: a malformed dialback element → bad-format', () => {
    const h = startServer();
    throughTls(h);
    expect(streamErrorOf(stepS2s(h, element({ name: 'result', xmlns: NS.DIALBACK, attrs: { from: PEER }, children: ['k'] })) as never)).toBe('bad-format');
  });

  it('XEP-0220 §2.5: certificates required: a dialback key → not-authorized, no dialback feature offered', () => {
    const h = startServer({ dialback: { ...DEFAULT_DIALBACK_POLICY, dialbackAllowed: false } });
    const features = sent(throughTls(h) as never).find((e) => e.name === 'features')!;
    expect(features.children.map((c) => typeof c !== 'string' && c.name)).toEqual(['mechanisms']);
    const r = resultOf(stepS2s(h, dbResult(h)) as never);
    expect(r?.kind === 'error' && r.error.condition).toBe('not-authorized');
  });

  it('XEP-0220 §2.5: TLS required and a key before STARTTLS → policy-violation', () => {
    const h = startServer();
    h.send(header());
    const r = resultOf(stepS2s(h, dbResult(h)) as never);
    expect(r?.kind === 'error' && r.error.condition).toBe('policy-violation');
  });

  it('XEP-0220 §2.2: dialback on a stream already authenticated by SASL EXTERNAL: another pair joins', () => {
    const h = startServer();
    throughTls(h);
    h.send({ type: 'ELEMENT', element: { name: 'auth', xmlns: NS.SASL, attrs: { mechanism: 'EXTERNAL' }, children: ['='] } });
    h.send(header());
    const { step4 } = dialback(h, { to: OTHER_LOCAL });
    expect(step4[1]).toEqual({ type: 'authenticated', from: PEER, to: OTHER_LOCAL, method: 'dialback' });
  });
});

describe('receiving server: the Authoritative Server on this stream (XEP-0220 §2.2.2)', () => {
  const key = (id: string) => dialbackKey(OUR_SECRET, 'example.org', LOCAL, id);

  it("XEP-0220 §2.2.2: a key we generated → type='valid'; a forged one → type='invalid'; 'from'/'to' swapped, 'id' copied", () => {
    const h = startServer();
    throughTls(h);
    const valid = sent(stepS2s(h, dbVerify('example.org', LOCAL, 'stream-1', key('stream-1'))) as never)[0]!;
    expect(valid).toMatchObject({ name: 'verify', attrs: { from: LOCAL, to: 'example.org', id: 'stream-1', type: 'valid' } });
    const forged = sent(stepS2s(h, dbVerify('example.org', LOCAL, 'stream-1', key('stream-2'))) as never)[0]!;
    expect(forged.attrs.type).toBe('invalid');
    expect(h.at()).toEqual(['open.negotiating.authenticating.featuresSent']);
  });

  it('XEP-0220 §2.2.2, §2.5: a verify request for a domain we do not host → item-not-found', () => {
    const h = startServer();
    throughTls(h);
    const out = sent(stepS2s(h, dbVerify('example.org', 'example.com', 'stream-1', 'k')) as never)[0]!;
    expect(out.attrs.type).toBe('error');
    expect(conditionIn(out.children.find((c) => typeof c !== 'string' && c.name === 'error') as never, NS.STANZAS)).toBe('item-not-found');
  });
});
