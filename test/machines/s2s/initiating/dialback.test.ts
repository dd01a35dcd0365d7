/**
 * The initiating server's Server Dialback: Step 1 with the XEP-0220 §2.1.1 key, the
 * valid / invalid / error / timeout answers (Step 4), and `<db:verify/>` requests it carries
 * for our Receiving Server role (§2.1.2): held until the stream is ready, answered, failed.
 */
import { describe, expect, it } from 'vitest';
import { dialbackKey, resultError, resultRequest, verifyError } from '../../../../machines/dialback/index.js';
import { NS } from '../../../../machines/ns.js';
import type { VerifyEvent } from '../../../../machines/s2s/initiating/index.js';
import { el, text } from '../../../../machines/xml.js';
import {
  OURS,
  PEER,
  SECRET,
  STREAM_ID,
  TIMEOUTS,
  XEP_KEY,
  dbResult,
  dbVerifyAnswer,
  dialbackFeature,
  element,
  features,
  mechanisms,
  responseHeader,
  sentOf,
  startServer,
  throughTls,
  toDialback,
  types,
  viaExternal,
} from './harness.js';

/** We (capulet.example) verify montague.example's key received on our incoming stream 417GAF25 (§2.1.2). */
const verify = (overrides: Partial<VerifyEvent> = {}): VerifyEvent => ({
  type: 'VERIFY',
  from: OURS,
  to: PEER,
  id: '417GAF25',
  key: '225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972d',
  correlation: 'incoming-7',
  ...overrides,
});

describe('initiating server: dialback as Initiating Server (XEP-0220 §2.1.1)', () => {
  it('XEP-0220 §2.1.1: Step 1 carries the key of machines/dialback/key.ts over the response stream id: the XEP\'s own example', () => {
    const h = startServer({ certificate: false });
    const [result] = sentOf(toDialback(h));
    expect(result).toMatchObject({ name: 'result', xmlns: NS.DIALBACK, attrs: { from: OURS, to: PEER } });
    expect(text(result!)).toBe(dialbackKey(SECRET, PEER, OURS, STREAM_ID));
    expect(text(result!)).toBe(XEP_KEY);
  });

  it("XEP-0220 §2.1.1: type='valid' → authenticated by dialback, no restart, established", () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    expect(h.stepS2s(dbResult('valid'))).toEqual([{ type: 'authenticated', from: OURS, to: PEER, method: 'dialback' }]);
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);
  });

  it("XEP-0220 §2.1.1, §6.1: Prosody 0.12's Step 4 (the key echoed as character data, an 'id' added) is the valid verdict, not bad-format", () => {
    const h = startServer({ certificate: false });
    const [step1] = sentOf(toDialback(h));
    const prosody = el('result', NS.DIALBACK, { type: 'valid', to: OURS, id: STREAM_ID, from: PEER }, text(step1!));
    expect(h.stepS2s(element(prosody))).toEqual([{ type: 'authenticated', from: OURS, to: PEER, method: 'dialback' }]);
    expect(h.at()).toEqual(['open.established.stanzas.exchanging', 'open.established.liveness.idle']);
  });

  it("XEP-0220 §2.1.1: type='invalid' → pairRejected (bounce internal-server-error), we close; the ended outcome says so too", () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    expect(h.stepS2s(dbResult('invalid'))).toEqual([
      { type: 'pairRejected', from: OURS, to: PEER, bounce: 'internal-server-error', stopStream: true },
      { type: 'closeStream' },
    ]);
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.ended()).toMatchObject({ kind: 'auth-failed', condition: 'dialback-invalid', bounce: 'internal-server-error' });
    expect(h.ended()?.authenticated).toBeUndefined();
  });

  it("XEP-0220 §2.5: type='error' → pairFailed with the condition (bounce remote-server-timeout)", () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    const cmds = h.stepS2s(element(resultError(PEER, OURS, 'remote-connection-failed')));
    expect(cmds[0]).toEqual({ type: 'pairFailed', from: OURS, to: PEER, reason: 'error', condition: 'remote-connection-failed', bounce: 'remote-server-timeout' });
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.ended()).toMatchObject({ kind: 'auth-failed', condition: 'remote-connection-failed', rfc: 'XEP-0220 §2.5', bounce: 'remote-server-timeout' });
  });

  it('XEP-0220 §2.1.1: no answer within dialbackTimeout → pairFailed (timeout), on the stream machine\'s clock', () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    expect(h.advance(29_999)).toEqual([]);
    expect(types(h.advanceS2s(1))).toEqual(['pairFailed', 'closeStream']);
    expect(h.ended()).toBeUndefined();
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.ended()).toMatchObject({ condition: 'dialback-timeout', bounce: 'remote-server-timeout' });
  });

  it('XEP-0220 §3.1: an answer from another domain pair, or a request, on our outgoing stream is dropped', () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    expect(h.stepS2s(element(resultRequest(PEER, OURS, 'abc')))).toEqual([]);
    expect(h.stepS2s(dbVerifyAnswer('nope', 'valid'))).toEqual([]);
    expect(h.at()).toEqual(['open.negotiating.dialback']);
  });

  it('XEP-0220 §2.1.1: the stream lost while waiting: the ended outcome bounces with remote-server-timeout', () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.ended()).toMatchObject({ kind: 'transport', bounce: 'remote-server-timeout' });
  });
});

describe('initiating server: verification requests (XEP-0220 §2.1.2)', () => {
  it('XEP-0220 §2.1.2: a VERIFY before the features is held, sent on entering dialback with Step 1, answered as verifyAnswer', () => {
    const h = startServer({ certificate: false });
    expect(h.stepS2s(verify())).toEqual([]);
    const sent = sentOf(toDialback(h));
    expect(sent.map((e) => e.name)).toEqual(['verify', 'result']);
    expect(sent[0]).toMatchObject({ xmlns: NS.DIALBACK, attrs: { from: OURS, to: PEER, id: '417GAF25' } });
    expect(text(sent[0]!)).toBe(verify().key);
    const [answer] = h.stepS2s(dbVerifyAnswer('417GAF25', 'valid'));
    expect(answer).toMatchObject({ type: 'verifyAnswer', correlation: 'incoming-7', valid: true, answer: { kind: 'valid', from: PEER, to: OURS, id: '417GAF25' } });
    expect(h.at()).toEqual(['open.negotiating.dialback']);
  });

  it("XEP-0220 §2.1.2: type='invalid' and type='error' answers, on an established stream", () => {
    const h = startServer();
    viaExternal(h);
    expect(sentOf(h.stepS2s(verify()))).toMatchObject([{ name: 'verify' }]);
    expect(h.stepS2s(dbVerifyAnswer('417GAF25', 'invalid'))).toMatchObject([{ type: 'verifyAnswer', correlation: 'incoming-7', valid: false }]);
    h.send(verify({ id: 'second', correlation: 'incoming-8' }));
    expect(h.stepS2s(element(verifyError(PEER, OURS, 'second', 'item-not-found')))).toMatchObject([
      { type: 'verifyAnswer', correlation: 'incoming-8', valid: false, answer: { kind: 'error', error: { condition: 'item-not-found' } } },
    ]);
  });

  it('XEP-0220 §2.1.2: an answer arrives once: the same answer again is unsolicited (§3.1)', () => {
    const h = startServer();
    viaExternal(h);
    h.send(verify());
    h.send(dbVerifyAnswer('417GAF25', 'valid'));
    expect(h.stepS2s(dbVerifyAnswer('417GAF25', 'valid'))).toEqual([]);
  });

  it('XEP-0220 §2.1.2 note: a verification-only stream: no authentication, the requests after the features, closed after the last answer', () => {
    const h = startServer({ purpose: 'verify' });
    h.send(verify());
    h.send(verify({ id: 'second', correlation: 'incoming-8' }));
    throughTls(h);
    h.send(responseHeader());
    const cmds = h.stepS2s(features(mechanisms('EXTERNAL'), dialbackFeature()));
    expect(sentOf(cmds).map((e) => `${e.name} ${e.attrs.id}`)).toEqual(['verify 417GAF25', 'verify second']);
    expect(cmds.some((c) => c.type === 'authenticated')).toBe(false);
    expect(types(h.stepS2s(dbVerifyAnswer('417GAF25', 'valid')))).toEqual(['verifyAnswer']);
    expect(types(h.stepS2s(dbVerifyAnswer('second', 'valid')))).toEqual(['verifyAnswer', 'closeStream']);
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.ended()).toMatchObject({ kind: 'closed' });
  });

  it('XEP-0220 §2.1.2, RFC 6120 §4.4 rule 2: an answer that crosses our closing tag is still taken', () => {
    const h = startServer({ purpose: 'verify', tls: 'optional' });
    h.send(responseHeader());
    h.send(features(dialbackFeature()));
    h.send(verify());
    h.send({ type: 'CLOSE' });
    expect(h.stepS2s(dbVerifyAnswer('417GAF25', 'valid'))).toMatchObject([{ type: 'verifyAnswer', valid: true }]);
  });

  it('XEP-0220 §2.4.2: a verification stream to a peer without dialback closes; the held requests fail', () => {
    const h = startServer({ purpose: 'verify', tls: 'optional' });
    h.send(verify());
    h.send(responseHeader());
    expect(types(h.stepS2s(features(mechanisms('EXTERNAL'))))).toEqual(['closeStream']);
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.cmds().filter((c) => c.type === 'verifyFailed')).toEqual([{ type: 'verifyFailed', correlation: 'incoming-7', reason: 'connection-failed' }]);
  });

  it('XEP-0220 §2.4.2: on an EXTERNAL stream whose peer did not offer dialback, a VERIFY fails at once', () => {
    const h = startServer();
    throughTls(h);
    h.send(responseHeader());
    h.send(features(mechanisms('EXTERNAL')));
    h.send({ type: 'ELEMENT', element: { name: 'success', xmlns: NS.SASL, attrs: {}, children: [] } });
    h.send(responseHeader({ id: 'x' }));
    h.send(features());
    expect(h.stepS2s(verify())).toEqual([{ type: 'verifyFailed', correlation: 'incoming-7', reason: 'connection-failed' }]);
  });

  it('XEP-0220 §2.1.2: a VERIFY for another Authoritative Server, or past maxVerifications, fails at once', () => {
    const h = startServer({ maxVerifications: 1 });
    expect(h.stepS2s(verify({ to: 'elsewhere.example' }))).toEqual([{ type: 'verifyFailed', correlation: 'incoming-7', reason: 'connection-failed' }]);
    expect(h.stepS2s(verify())).toEqual([]);
    expect(h.stepS2s(verify({ correlation: 'incoming-9' }))).toEqual([{ type: 'verifyFailed', correlation: 'incoming-9', reason: 'connection-failed' }]);
  });

  it('XEP-0220 §2.1.2 note: requests pending when the stream ends are failed: sent ones connection-lost, held ones connection-failed', () => {
    const h = startServer({ certificate: false });
    toDialback(h);
    h.send(verify());
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.cmds().filter((c) => c.type === 'verifyFailed')).toEqual([{ type: 'verifyFailed', correlation: 'incoming-7', reason: 'connection-lost' }]);
    const held = startServer();
    held.send(verify());
    held.advance(TIMEOUTS.negotiation);
    held.send({ type: 'SOCKET_CLOSED' });
    expect(held.cmds().filter((c) => c.type === 'verifyFailed')).toEqual([{ type: 'verifyFailed', correlation: 'incoming-7', reason: 'connection-failed' }]);
  });
});
