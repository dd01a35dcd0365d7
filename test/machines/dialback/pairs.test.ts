import { describe, expect, it } from 'vitest';
import { resultAnswer, resultError, resultRequest, verifyAnswer, verifyRequest } from '../../../machines/dialback/elements.js';
import { mayMultiplexTarget, pairKey, routeIncoming, routeOutgoing, stanzaAddressError, verifyCorrelation } from '../../../machines/dialback/pairs.js';
import { NS } from '../../../machines/ns.js';
import { el } from '../../../machines/xml.js';

const S = 'capulet.example';
const T = 'montague.example';
const none = new Set<string>();

describe('multiplexing: routing dialback elements to per-pair machines (XEP-0220 §2.6, §3.1)', () => {
  it('XEP-0220 §2.6: a pair is keyed "Sender Target", a verification by Sender, Target and stream ID', () => {
    expect(pairKey({ from: S, to: T })).toBe('capulet.example montague.example');
    expect(verifyCorrelation(S, T, '417GAF25')).toBe('capulet.example montague.example 417GAF25');
  });

  it('XEP-0220 §2.2.1: incoming Step 1 for a new pair starts a machine; for a known pair it is a duplicate', () => {
    const e = resultRequest(S, T, 'k');
    expect(routeIncoming(e, none)).toEqual({ kind: 'result-request', pair: pairKey({ from: S, to: T }), request: { kind: 'request', from: S, to: T, key: 'k' } });
    expect(routeIncoming(e, new Set([pairKey({ from: S, to: T })]))).toMatchObject({ kind: 'duplicate' });
  });

  it('XEP-0220 §2.6.1, §2.6.2: other Sender or Target Domains on the same stream are new pairs of their own', () => {
    const known = new Set([pairKey({ from: S, to: T })]);
    expect(routeIncoming(resultRequest('rooms.capulet.example', T, 'k'), known)).toMatchObject({ kind: 'result-request', pair: 'rooms.capulet.example montague.example' });
    expect(routeIncoming(resultRequest(S, 'chat.montague.example', 'k'), known)).toMatchObject({ kind: 'result-request', pair: 'capulet.example chat.montague.example' });
  });

  it('XEP-0220 §2.2.2: incoming Step 2 goes to the Authoritative Server answer', () => {
    expect(routeIncoming(verifyRequest(S, T, '417GAF25', 'k'), none)).toEqual({
      kind: 'verify-request',
      request: { kind: 'request', from: S, to: T, id: '417GAF25', key: 'k' },
    });
  });

  it('XEP-0220 §2.2, §3.1: answers arriving on an incoming stream are unsolicited', () => {
    expect(routeIncoming(resultAnswer(T, S, 'valid'), none)).toEqual({ kind: 'unsolicited', reason: "type='valid' on an incoming stream" });
    expect(routeIncoming(verifyAnswer(S, T, 'x', 'valid'), none)).toEqual({ kind: 'unsolicited', reason: "type='valid' on an incoming stream" });
    expect(routeIncoming(resultError(T, S, 'forbidden'), none)).toEqual({ kind: 'unsolicited', reason: "type='error' on an incoming stream" });
  });

  it('XEP-0220 §2.1.1: outgoing Step 4 goes to the machine of our pair (from our Target to our Sender)', () => {
    const awaiting = new Set([pairKey({ from: S, to: T })]);
    expect(routeOutgoing(resultAnswer(T, S, 'valid'), awaiting, none)).toEqual({ kind: 'result-answer', pair: pairKey({ from: S, to: T }), result: { kind: 'valid', from: T, to: S } });
    expect(routeOutgoing(resultError(T, S, 'item-not-found'), awaiting, none)).toMatchObject({ kind: 'result-answer', result: { kind: 'error' } });
  });

  it('XEP-0220 §3.1: outgoing verdicts nobody asked for, and requests on an outgoing stream, are unsolicited', () => {
    const awaiting = new Set([pairKey({ from: S, to: T })]);
    expect(routeOutgoing(resultAnswer('chat.montague.example', S, 'valid'), awaiting, none)).toEqual({
      kind: 'unsolicited',
      reason: 'no key of ours awaits a verdict for capulet.example chat.montague.example',
    });
    expect(routeOutgoing(resultAnswer(S, T, 'valid'), awaiting, none)).toMatchObject({ kind: 'unsolicited' });
    expect(routeOutgoing(resultRequest(T, S, 'k'), awaiting, none)).toEqual({ kind: 'unsolicited', reason: 'a dialback request on our outgoing stream' });
    expect(routeOutgoing(verifyRequest(T, S, 'x', 'k'), awaiting, none)).toEqual({ kind: 'unsolicited', reason: 'a verification request on our outgoing stream' });
  });

  it('XEP-0220 §2.1.2: outgoing Step 3 goes to the verification it answers, identified by from, to and id; others are dropped', () => {
    const pending = new Set([verifyCorrelation(S, T, '417GAF25')]);
    expect(routeOutgoing(verifyAnswer(S, T, '417GAF25', 'valid'), none, pending)).toEqual({
      kind: 'verify-answer',
      correlation: verifyCorrelation(S, T, '417GAF25'),
      answer: { kind: 'valid', from: S, to: T, id: '417GAF25' },
    });
    expect(routeOutgoing(verifyAnswer(S, T, 'OTHER', 'valid'), none, pending)).toEqual({
      kind: 'unsolicited',
      reason: 'no verification of ours awaits capulet.example montague.example OTHER',
    });
  });

  it('XEP-0220 §2.1: malformed dialback elements are reported with the parser reason, either direction', () => {
    expect(routeIncoming(el('result', NS.DIALBACK, { to: T }, 'k'), none)).toEqual({ kind: 'malformed', reason: "'from' is missing" });
    expect(routeIncoming(el('verify', NS.DIALBACK, { from: S, to: T }, 'k'), none)).toEqual({ kind: 'malformed', reason: "'id' is missing" });
    expect(routeOutgoing(el('result', NS.DIALBACK, { from: T, to: S, type: 'nope' }), none, none)).toEqual({ kind: 'malformed', reason: "unknown type 'nope'" });
    expect(routeOutgoing(el('verify', NS.DIALBACK, { from: T, to: S }), none, none)).toEqual({ kind: 'malformed', reason: "'id' is missing" });
  });

  it('XEP-0220 §2.6.2: target multiplexing only towards a peer that advertised <errors/>', () => {
    expect(mayMultiplexTarget({ advertised: true, errors: true })).toBe(true);
    expect(mayMultiplexTarget({ advertised: true, errors: false })).toBe(false);
    expect(mayMultiplexTarget({ advertised: false, errors: false })).toBe(false);
  });
});

describe('stanzas on an incoming server-to-server stream (XEP-0220 §2.2.1)', () => {
  const authorized = new Set([pairKey({ from: S, to: T })]);
  const msg = (attrs: Record<string, string>) => el('message', NS.SERVER, attrs);

  it('XEP-0220 §2.2.1: a stanza of a verified pair is accepted, full JIDs included', () => {
    expect(stanzaAddressError(msg({ from: 'juliet@capulet.example/balcony', to: 'romeo@montague.example' }), authorized)).toBeUndefined();
    expect(stanzaAddressError(msg({ from: 'capulet.example', to: 'montague.example' }), authorized)).toBeUndefined();
  });

  it("XEP-0220 §2.2.1: a stanza from a domain not verified for that target → invalid-from", () => {
    expect(stanzaAddressError(msg({ from: 'juliet@verona.example', to: 'romeo@montague.example' }), authorized)).toBe('invalid-from');
    expect(stanzaAddressError(msg({ from: 'juliet@capulet.example', to: 'romeo@chat.montague.example' }), authorized)).toBe('invalid-from');
  });

  it("XEP-0220 §2.2.1: a stanza without 'from' or 'to', or with an empty or malformed one → improper-addressing", () => {
    expect(stanzaAddressError(msg({ to: 'romeo@montague.example' }), authorized)).toBe('improper-addressing');
    expect(stanzaAddressError(msg({ from: 'juliet@capulet.example' }), authorized)).toBe('improper-addressing');
    expect(stanzaAddressError(msg({ from: '', to: 'romeo@montague.example' }), authorized)).toBe('improper-addressing');
    expect(stanzaAddressError(msg({ from: 'a@@capulet.example', to: 'romeo@montague.example' }), authorized)).toBe('improper-addressing');
  });
});
