/**
 * RFC 6121 §3.4 pre-approval (the roster item's 'approved' flag, §2.1.2.1) and the §3.1.3
 * auto-replies, at the user's server and through to the contact's.
 */
import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_STATES } from '../../../machines/subscription/index.js';
import { JULIET, Pair, ROMEO, side, words } from './harness.js';

describe('RFC 6121 §3.4.2 server processing of subscription pre-approval', () => {
  it('rule 4 / rule 3: "subscribed" with no request pending is noted (approved=\'true\', pushed), not routed', () => {
    const s = side(ROMEO, JULIET);
    expect(s.step({ type: 'OUT_SUBSCRIBED' })).toEqual([{ type: 'rosterPush', to: ROMEO, item: { jid: JULIET, subscription: 'none', approved: true } }]);
    expect([s.state(), s.approved()]).toEqual(['None', true]);
    expect(s.step({ type: 'OUT_SUBSCRIBED' }), 'a second pre-approval changes nothing').toEqual([]);
  });

  it('a pre-approved request is answered "subscribed" on the user\'s behalf, not delivered: "None" → "From", "None + Pending Out" → "From + Pending Out", "To" → "Both" (§A.3.1 [1])', () => {
    for (const [from, to, pushed] of [
      ['None', 'From', 'push from'],
      ['None + Pending Out', 'From + Pending Out', 'push from+ask'],
      ['To', 'Both', 'push both'],
    ] as const) {
      const s = side(ROMEO, JULIET, from, true);
      expect(words(s.step({ type: 'IN_SUBSCRIBE' })), from).toEqual(['reply subscribed', pushed, 'presence current']);
      expect(s.state()).toBe(to);
      // §3.4.2 Implementation Note: this server keeps no record once the request has come.
      expect(s.approved()).toBe(false);
    }
  });

  it('§3.4.2 rule 2: "subscribed" while a request is pending is a normal approval, whatever the flag would say', () => {
    const s = side(ROMEO, JULIET, 'None + Pending In');
    expect(words(s.step({ type: 'OUT_SUBSCRIBED' }))).toEqual(['route subscribed', 'forget request', 'push from', 'presence current']);
    expect(s.state()).toBe('From');
  });

  it('§3.2.2 rule 2, §3.4 Implementation Note: "unsubscribed" cancels a pre-approval (pushed without \'approved\', not routed)', () => {
    for (const state of ['None', 'None + Pending Out', 'To'] as const) {
      const s = side(ROMEO, JULIET, state, true);
      const cs = s.step({ type: 'OUT_UNSUBSCRIBED' });
      expect(cs, state).toHaveLength(1);
      expect(cs[0]).toMatchObject({ type: 'rosterPush' });
      expect(cs[0]!.type === 'rosterPush' && 'approved' in cs[0]!.item).toBe(false);
      expect([s.state(), s.approved()]).toEqual([state, false]);
      // Now the contact's request is delivered for approval again.
      expect(words(s.step({ type: 'IN_SUBSCRIBE' }))).toEqual(['deliver subscribe to available (held)']);
    }
  });

  it('§3.4: the flag survives the user\'s own changes while no request comes (subscribe, the contact\'s "subscribed" and "unsubscribed")', () => {
    const s = side(ROMEO, JULIET);
    s.step({ type: 'OUT_SUBSCRIBED' });
    expect(words(s.step({ type: 'OUT_SUBSCRIBE' }))).toEqual(['route subscribe', 'push none+ask+approved']);
    expect(words(s.step({ type: 'IN_SUBSCRIBED' }))).toEqual(['deliver subscribed to interested', 'push to+approved']);
    expect(words(s.step({ type: 'IN_UNSUBSCRIBED' }))).toEqual(['deliver unsubscribed to interested', 'push none+approved']);
    expect([s.state(), s.approved()]).toEqual(['None', true]);
  });

  it('§3.4.2 rule 1: where the contact already has a subscription the stanza is silently ignored', () => {
    for (const state of ['From', 'From + Pending Out', 'Both'] as const) {
      const s = side(ROMEO, JULIET, state);
      expect(s.step({ type: 'OUT_SUBSCRIBED' }), state).toEqual([]);
      expect([s.state(), s.approved()]).toEqual([state, false]);
    }
  });

  it('§3.4 at both servers: romeo pre-approves juliet, juliet subscribes and is subscribed at once, without romeo being asked', () => {
    const p = new Pair();
    p.send('romeo', { type: 'OUT_SUBSCRIBED' });
    expect(p.wire).toEqual([]);
    p.send('juliet', { type: 'OUT_SUBSCRIBE' });
    expect(p.wire).toEqual(['juliet→romeo route subscribe', 'romeo→juliet reply subscribed']);
    expect([p.romeo.state(), p.juliet.state()]).toEqual(['From', 'To']);
    expect(p.romeo.all.some((c) => c.type === 'deliver')).toBe(false);
    expect(p.agree()).toBe(true);
  });
});

describe('RFC 6121 §3.1.3 auto-replies at the contact\'s server', () => {
  it('rule 2: a subscribe from a contact that already has a subscription ("From", "From + Pending Out", "Both") gets "subscribed" from the user\'s bare JID, no delivery, no change', () => {
    for (const state of ['From', 'From + Pending Out', 'Both'] as const) {
      const s = side(JULIET, ROMEO, state);
      expect(s.step({ type: 'IN_SUBSCRIBE' }), state).toEqual([{ type: 'route', presence: 'subscribed', from: JULIET, to: ROMEO, onBehalf: true }]);
      expect(s.state()).toBe(state);
    }
  });

  it('rule 1: without a pre-approval or a subscription, nothing is approved on the user\'s behalf', () => {
    for (const state of SUBSCRIPTION_STATES.filter((s) => !s.startsWith('From') && s !== 'Both')) {
      const cs = side(JULIET, ROMEO, state).step({ type: 'IN_SUBSCRIBE' });
      expect(cs.some((c) => c.type === 'route'), state).toBe(false);
    }
  });

  it('rule 4: the held request is delivered again whenever a resource of the user\'s becomes available, until answered', () => {
    const s = side(JULIET, ROMEO);
    s.step({ type: 'IN_SUBSCRIBE' });
    expect(s.step({ type: 'AVAILABLE' })).toEqual([{ type: 'redeliverRequest', from: ROMEO, to: JULIET }]);
    expect(words(s.step({ type: 'AVAILABLE' }))).toEqual(['redeliver request']);
    s.step({ type: 'OUT_SUBSCRIBED' });
    expect(s.step({ type: 'AVAILABLE' }), 'answered: nothing held any more').toEqual([]);
  });

  it('§3.1.2: the user\'s unanswered request is resent when a resource of the user\'s becomes available, and the contact\'s server drops the repeat', () => {
    const p = new Pair();
    p.send('romeo', { type: 'OUT_SUBSCRIBE' });
    p.send('romeo', { type: 'AVAILABLE' });
    expect(p.wire).toEqual(['romeo→juliet route subscribe', 'romeo→juliet resend subscribe']);
    expect(words(p.juliet.all)).toEqual(['deliver subscribe to available (held)']); // §A.3.1 "None + Pending In": S.N.
    expect([p.romeo.state(), p.juliet.state()]).toEqual(['None + Pending Out', 'None + Pending In']);
    p.send('juliet', { type: 'OUT_SUBSCRIBED' });
    p.send('romeo', { type: 'AVAILABLE' });
    expect(p.wire).toHaveLength(3);
  });

  it('rule 4: a second request while one is held is not delivered again (one per contact)', () => {
    const s = side(JULIET, ROMEO);
    expect(words(s.step({ type: 'IN_SUBSCRIBE' }))).toEqual(['deliver subscribe to available (held)']);
    expect(s.step({ type: 'IN_SUBSCRIBE' })).toEqual([]);
    expect(s.state()).toBe('None + Pending In');
  });
});
