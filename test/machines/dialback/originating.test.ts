import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resultRequest, type DbResult } from '../../../machines/dialback/elements.js';
import { CAPULET_SECRET, SENDER, TARGET, TIMEOUT, originating, outputOf } from './harness.js';

/** XEP-0220 Example 1: the key capulet.example sends montague.example on stream D60000229F. */
const EXAMPLE_KEY = 'b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3';

const answer = (kind: 'valid' | 'invalid', from = TARGET, to = SENDER): { type: 'RESULT'; result: DbResult } => ({ type: 'RESULT', result: { kind, from, to } });
const errorAnswer: { type: 'RESULT'; result: DbResult } = {
  type: 'RESULT',
  result: { kind: 'error', from: TARGET, to: SENDER, error: { condition: 'item-not-found', type: 'cancel' } },
};

describe('originatingDialback: the Initiating Server for one domain pair (XEP-0220 §2.1.1)', () => {
  it('XEP-0220 §2.1.1: on start it sends Step 1, <db:result from=Sender to=Target>KEY, with the key of Example 1', () => {
    const r = originating();
    expect(r.at()).toEqual(['awaitingVerdict']);
    expect(r.take()).toEqual([{ type: 'send', element: resultRequest(SENDER, TARGET, EXAMPLE_KEY) }]);
  });

  it("XEP-0220 §2.1.1: type='valid' → authorized: the queued stanzas may go", () => {
    const r = originating();
    r.take();
    expect(r.step(answer('valid'))).toEqual([{ type: 'pairAuthorized', from: SENDER, to: TARGET }]);
    expect(r.at()).toEqual(['authorized']);
    expect(r.done).toBe(true);
    expect(outputOf(r)).toEqual({ result: 'valid', rfc: 'XEP-0220 §2.1.1' });
    expect(r.advance(TIMEOUT * 2)).toEqual([]); // the timer went with the state
  });

  it("XEP-0220 §2.1.1: type='invalid' → rejected: bounce with internal-server-error and stop using the stream; closing is the peer's move", () => {
    const r = originating();
    r.take();
    const cmds = r.step(answer('invalid'));
    expect(cmds).toEqual([{ type: 'pairRejected', from: SENDER, to: TARGET, bounce: 'internal-server-error', stopStream: true }]);
    expect(cmds.map((c) => c.type)).not.toContain('closeStream');
    expect(r.at()).toEqual(['rejected']);
    expect(outputOf(r)).toEqual({ result: 'invalid', rfc: 'XEP-0220 §2.1.1' });
  });

  it("XEP-0220 §2.1.1, §2.5: type='error' → failed with the condition; queued stanzas bounce with remote-server-timeout", () => {
    const r = originating();
    r.take();
    expect(r.step(errorAnswer)).toEqual([
      { type: 'pairFailed', from: SENDER, to: TARGET, reason: 'error', condition: 'item-not-found', bounce: 'remote-server-timeout' },
    ]);
    expect(r.at()).toEqual(['failed']);
    expect(outputOf(r)).toEqual({ result: 'error', condition: 'item-not-found', rfc: 'XEP-0220 §2.5' });
  });

  it('XEP-0220 §2.1.1: no verdict within dialbackTimeout → failed (timeout)', () => {
    const r = originating();
    r.take();
    expect(r.advance(TIMEOUT - 1)).toEqual([]);
    expect(r.at()).toEqual(['awaitingVerdict']);
    expect(r.advance(1)).toEqual([{ type: 'pairFailed', from: SENDER, to: TARGET, reason: 'timeout', bounce: 'remote-server-timeout' }]);
    expect(r.at()).toEqual(['failed']);
    expect(outputOf(r)).toEqual({ result: 'timeout', rfc: 'XEP-0220 §2.1.1' });
  });

  it('XEP-0220 §2.1.1: the stream closed by the Receiving Server while waiting counts as a dialback error', () => {
    const r = originating();
    r.take();
    expect(r.step({ type: 'STREAM_LOST' })).toEqual([{ type: 'pairFailed', from: SENDER, to: TARGET, reason: 'stream-lost', bounce: 'remote-server-timeout' }]);
    expect(r.at()).toEqual(['failed']);
    expect(outputOf(r)).toEqual({ result: 'stream-lost', rfc: 'XEP-0220 §2.1.1' });
  });

  it("XEP-0220 §3.1: answers that do not correlate with our request (other domains, swapped, a request) are ignored", () => {
    const r = originating();
    r.take();
    expect(r.step(answer('valid', 'chat.montague.example', SENDER))).toEqual([]);
    expect(r.step(answer('valid', TARGET, 'rooms.capulet.example'))).toEqual([]);
    expect(r.step(answer('valid', SENDER, TARGET))).toEqual([]);
    expect(r.step({ type: 'RESULT', result: { kind: 'request', from: TARGET, to: SENDER, key: 'abc' } })).toEqual([]);
    expect(r.at()).toEqual(['awaitingVerdict']);
    expect(r.step(answer('valid'))).toEqual([{ type: 'pairAuthorized', from: SENDER, to: TARGET }]);
  });

  it('XEP-0220 §2.1.1: the secret appears neither in the snapshot nor in any command, only the key', () => {
    const r = originating();
    r.step(answer('valid'));
    const hmacKey = createHash('sha256').update(CAPULET_SECRET).digest('hex');
    const seen = JSON.stringify({ snapshot: r.actor.getPersistedSnapshot(), commands: r.all });
    expect(seen).not.toContain(CAPULET_SECRET);
    expect(seen).not.toContain(hmacKey);
    expect(seen).toContain(EXAMPLE_KEY);
  });
});
