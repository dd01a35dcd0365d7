import { describe, expect, it } from 'vitest';
import { resultAnswer, resultError, verifyRequest } from '../../../machines/dialback/elements.js';
import { DEFAULT_DIALBACK_POLICY } from '../../../machines/dialback/policy.js';
import type { DbVerifyAnswer, ReceivingDialbackEvent, VerifyFailure } from '../../../machines/dialback/types.js';
import { SENDER, STREAM_ID, TARGET, TIMEOUT, outputOf, receiving } from './harness.js';

const KEY = 'b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3';
const request = (to = TARGET, from = SENDER): ReceivingDialbackEvent => ({ type: 'REQUEST', request: { kind: 'request', from, to, key: KEY } });
/** Step 3 as the Authoritative Server of the Sender Domain sends it: from Sender, to Target, our stream ID. */
const verdict = (kind: 'valid' | 'invalid', otherPairsAuthorized = false, over: Partial<DbVerifyAnswer> = {}): ReceivingDialbackEvent => ({
  type: 'VERIFY_ANSWER',
  answer: { kind, from: SENDER, to: TARGET, id: STREAM_ID, ...over } as DbVerifyAnswer,
  otherPairsAuthorized,
});

/** A receiving machine that has sent Step 2. */
function verifying(...args: Parameters<typeof receiving>) {
  const r = receiving(...args);
  r.step(request());
  return r;
}

describe('receivingDialback: the Receiving Server for one domain pair (XEP-0220 §2.2.1, §2.1.2)', () => {
  it('XEP-0220 §2.2.1: starts idle, sending nothing', () => {
    const r = receiving();
    expect(r.at()).toEqual(['idle']);
    expect(r.take()).toEqual([]);
  });

  it("XEP-0220 §2.1.2: Step 1 → Step 2, <db:verify from=Target to=Sender id=StreamID>KEY to the Sender Domain's Authoritative Server", () => {
    const r = receiving();
    expect(r.step(request())).toEqual([{ type: 'verify', authoritative: SENDER, element: verifyRequest(TARGET, SENDER, STREAM_ID, KEY) }]);
    expect(r.at()).toEqual(['verifying']);
  });

  it('XEP-0220 §2.2.1, §2.6.2: a Target Domain we host besides the stream header one is verified the same way', () => {
    const r = receiving();
    expect(r.step(request('chat.montague.example'))).toEqual([
      { type: 'verify', authoritative: SENDER, element: verifyRequest('chat.montague.example', SENDER, STREAM_ID, KEY) },
    ]);
  });

  it('XEP-0220 §2.2.1, §2.5: a Target Domain we do not host → item-not-found from that domain, a dialback error only', () => {
    const r = receiving();
    const cmds = r.step(request('verona.example'));
    expect(cmds).toEqual([
      { type: 'send', element: resultError('verona.example', SENDER, 'item-not-found') },
      { type: 'pairFailed', from: SENDER, to: 'verona.example', condition: 'item-not-found' },
    ]);
    expect(cmds.map((c) => c.type)).not.toContain('closeStream');
    expect(r.at()).toEqual(['failed']);
    expect(outputOf(r)).toEqual({ result: 'error', condition: 'item-not-found', rfc: 'XEP-0220 §2.5' });
  });

  it('XEP-0220 §2.5: policy wants a certificate, not dialback → not-authorized', () => {
    const r = receiving({ policy: { ...DEFAULT_DIALBACK_POLICY, dialbackAllowed: false } });
    expect(r.step(request())).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, 'not-authorized') },
      { type: 'pairFailed', from: SENDER, to: TARGET, condition: 'not-authorized' },
    ]);
    expect(r.at()).toEqual(['failed']);
  });

  it('XEP-0220 §2.5: policy wants TLS first and the stream is not encrypted → policy-violation; encrypted → verification', () => {
    const plain = receiving({ secured: false, policy: { ...DEFAULT_DIALBACK_POLICY, requireTls: true } });
    expect(plain.step(request())).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, 'policy-violation') },
      { type: 'pairFailed', from: SENDER, to: TARGET, condition: 'policy-violation' },
    ]);
    const tls = receiving({ secured: true, policy: { ...DEFAULT_DIALBACK_POLICY, requireTls: true } });
    expect(tls.step(request()).map((c) => c.type)).toEqual(['verify']);
    const optional = receiving({ secured: false });
    expect(optional.step(request()).map((c) => c.type)).toEqual(['verify']);
  });

  it('XEP-0220 §2.5, §2.6: a stream already carrying maxPairsPerStream pairs → resource-constraint; one fewer → verification', () => {
    const full = receiving({ pairsOnStream: 2, policy: { ...DEFAULT_DIALBACK_POLICY, maxPairsPerStream: 2 } });
    expect(full.step(request())).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, 'resource-constraint') },
      { type: 'pairFailed', from: SENDER, to: TARGET, condition: 'resource-constraint' },
    ]);
    expect(full.at()).toEqual(['failed']);
    const room = receiving({ pairsOnStream: 1, policy: { ...DEFAULT_DIALBACK_POLICY, maxPairsPerStream: 2 } });
    expect(room.step(request()).map((c) => c.type)).toEqual(['verify']);
  });

  it("XEP-0220 §2.2.1: Step 3 valid → Step 4 type='valid' from Target to Sender, and the pair is authorized", () => {
    const r = verifying();
    expect(r.step(verdict('valid'))).toEqual([
      { type: 'send', element: resultAnswer(TARGET, SENDER, 'valid') },
      { type: 'pairAuthorized', from: SENDER, to: TARGET },
    ]);
    expect(r.at()).toEqual(['authorized']);
    expect(outputOf(r)).toEqual({ result: 'valid', rfc: 'XEP-0220 §2.2.1' });
    expect(r.advance(TIMEOUT * 2)).toEqual([]);
  });

  it("XEP-0220 §2.2.1: Step 3 invalid, first pair on the stream → type='invalid', then the stream must close", () => {
    const r = verifying();
    expect(r.step(verdict('invalid'))).toEqual([
      { type: 'send', element: resultAnswer(TARGET, SENDER, 'invalid') },
      { type: 'pairRejected', from: SENDER, to: TARGET, closeStream: true },
    ]);
    expect(r.at()).toEqual(['rejected']);
    expect(outputOf(r)).toEqual({ result: 'invalid', rfc: 'XEP-0220 §2.2.1' });
  });

  it('XEP-0220 §2.2.1, §2.1.2: Step 3 invalid while other pairs are verified → <forbidden/> instead, the stream stays', () => {
    const r = verifying();
    expect(r.step(verdict('invalid', true))).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, 'forbidden') },
      { type: 'pairRejected', from: SENDER, to: TARGET, closeStream: false },
    ]);
    expect(r.at()).toEqual(['rejected']);
    expect(outputOf(r)).toEqual({ result: 'invalid', condition: 'forbidden', rfc: 'XEP-0220 §2.2.1, §2.5' });
  });

  it("XEP-0220 §2.5: Step 3 type='error' → remote-server-not-found to the Initiating Server", () => {
    const r = verifying();
    const ev: ReceivingDialbackEvent = {
      type: 'VERIFY_ANSWER',
      answer: { kind: 'error', from: SENDER, to: TARGET, id: STREAM_ID, error: { condition: 'item-not-found', type: 'cancel' } },
      otherPairsAuthorized: false,
    };
    expect(r.step(ev)).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, 'remote-server-not-found') },
      { type: 'pairFailed', from: SENDER, to: TARGET, condition: 'remote-server-not-found' },
    ]);
    expect(r.at()).toEqual(['failed']);
  });

  const FAILURES: readonly [VerifyFailure, string][] = [
    ['not-found', 'remote-server-not-found'],
    ['connection-failed', 'remote-connection-failed'],
    ['connection-lost', 'remote-server-timeout'],
  ];
  it.each(FAILURES)('XEP-0220 §2.5: the Authoritative Server could not be asked (%s) → %s', (reason, condition) => {
    const r = verifying();
    expect(r.step({ type: 'VERIFY_FAILED', reason })).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, condition as never) },
      { type: 'pairFailed', from: SENDER, to: TARGET, condition },
    ]);
    expect(r.at()).toEqual(['failed']);
    expect(outputOf(r)).toEqual({ result: 'error', condition, rfc: 'XEP-0220 §2.5' });
  });

  it('XEP-0220 §2.5: no Step 3 within dialbackTimeout → remote-server-timeout', () => {
    const r = verifying();
    expect(r.advance(TIMEOUT - 1)).toEqual([]);
    expect(r.advance(1)).toEqual([
      { type: 'send', element: resultError(TARGET, SENDER, 'remote-server-timeout') },
      { type: 'pairFailed', from: SENDER, to: TARGET, condition: 'remote-server-timeout' },
    ]);
    expect(r.at()).toEqual(['failed']);
    expect(outputOf(r)).toEqual({ result: 'timeout', condition: 'remote-server-timeout', rfc: 'XEP-0220 §2.5' });
  });

  it("XEP-0220 §2.1.2, §3.1: a Step 3 whose 'from', 'to' or 'id' does not match our request is ignored", () => {
    const r = verifying();
    expect(r.step(verdict('valid', false, { id: 'OTHERSTREAM' }))).toEqual([]);
    expect(r.step(verdict('valid', false, { from: 'rooms.capulet.example' }))).toEqual([]);
    expect(r.step(verdict('valid', false, { to: 'chat.montague.example' }))).toEqual([]);
    expect(r.step(verdict('valid', false, { from: TARGET, to: SENDER }))).toEqual([]);
    expect(r.at()).toEqual(['verifying']);
    expect(r.step(verdict('valid')).map((c) => c.type)).toEqual(['send', 'pairAuthorized']);
  });

  it('XEP-0220 §2.2.1: another key for the pair while it is verified is ignored (one Step 2 per pair)', () => {
    const r = verifying();
    expect(r.step(request())).toEqual([]);
    expect(r.at()).toEqual(['verifying']);
  });

  it('XEP-0220 §2.1.2: the incoming stream lost, idle or verifying → abandoned, nothing sent', () => {
    const idle = receiving();
    expect(idle.step({ type: 'STREAM_LOST' })).toEqual([]);
    expect(idle.at()).toEqual(['abandoned']);
    const busy = verifying();
    expect(busy.step({ type: 'STREAM_LOST' })).toEqual([]);
    expect(busy.at()).toEqual(['abandoned']);
    expect(outputOf(busy)).toEqual({ result: 'stream-lost', rfc: 'XEP-0220 §2.1.2' });
    expect(busy.advance(TIMEOUT)).toEqual([]);
  });
});
