/**
 * Both ends of a subscription: romeo's server (romeo's view of juliet) and juliet's server
 * (juliet's view of romeo), each a subscription machine, with every stanza one routes arriving
 * at the other as inbound (RFC 6121 §3: "Subscription states are reflected in the rosters of
 * both the user and the contact"). At every step the two ends must describe the same relation:
 * romeo "To" ⇔ juliet "From", romeo "Pending Out" ⇔ juliet "Pending In".
 */
import { describe, expect, it } from 'vitest';
import { OUTBOUND, SUBSCRIPTION_STATES, type SubscriptionState, type SubscriptionStanza } from '../../../machines/subscription/index.js';
import { mirror, Pair, words } from './harness.js';

const at = (p: Pair): [SubscriptionState, SubscriptionState] => [p.romeo.state(), p.juliet.state()];

describe('RFC 6121 §3.1 requesting a subscription, at the user\'s server and the contact\'s server', () => {
  it('§3.1.1-§3.1.6 subscribe → subscribed: romeo "To", juliet "From"; then juliet subscribes back and both reach "Both"', () => {
    const p = new Pair();
    p.send('romeo', { type: 'OUT_SUBSCRIBE' }); // §3.1.1
    expect(at(p)).toEqual(['None + Pending Out', 'None + Pending In']);
    expect(words(p.romeo.all)).toEqual(['route subscribe', 'push none+ask']); // §3.1.2
    expect(words(p.juliet.all)).toEqual(['deliver subscribe to available (held)']); // §3.1.3 rules 3-4
    expect(p.agree()).toBe(true);

    p.send('juliet', { type: 'OUT_SUBSCRIBED' }); // §3.1.4 approval
    expect(at(p)).toEqual(['To', 'From']);
    expect(words(p.juliet.all.slice(1))).toEqual(['route subscribed', 'forget request', 'push from', 'presence current']); // §3.1.5
    expect(words(p.romeo.all.slice(2))).toEqual(['deliver subscribed to interested', 'push to']); // §3.1.6
    expect(p.agree()).toBe(true);

    // §3.1.5: "the contact would then need to send a subscription request to the user".
    p.send('juliet', { type: 'OUT_SUBSCRIBE' });
    expect(at(p)).toEqual(['To + Pending In', 'From + Pending Out']);
    expect(p.agree()).toBe(true);
    p.send('romeo', { type: 'OUT_SUBSCRIBED' });
    expect(at(p)).toEqual(['Both', 'Both']);
    expect(p.wire).toEqual(['romeo→juliet route subscribe', 'juliet→romeo route subscribed', 'juliet→romeo route subscribe', 'romeo→juliet route subscribed']);
    expect(p.romeo.all.at(-2)).toMatchObject({ type: 'rosterPush', item: { subscription: 'both' } });
    expect(p.juliet.all.at(-1)).toMatchObject({ type: 'rosterPush', item: { subscription: 'both' } });
  });

  it('§3.1.3 rule 2: a repeated request from an already subscribed user is answered by the contact\'s server, not delivered', () => {
    const p = new Pair('To');
    p.send('romeo', { type: 'OUT_SUBSCRIBE' });
    expect(p.wire).toEqual(['romeo→juliet route subscribe', 'juliet→romeo reply subscribed']);
    expect(words(p.juliet.all)).toEqual(['reply subscribed']);
    expect(words(p.romeo.all)).toEqual(['route subscribe']); // §A.3.3 "To": not delivered again
    expect(at(p)).toEqual(['To', 'From']);
  });

  it('§3.1.4 denial: juliet answers "unsubscribed", romeo\'s request is gone at both ends', () => {
    const p = new Pair();
    p.send('romeo', { type: 'OUT_SUBSCRIBE' });
    p.send('juliet', { type: 'OUT_UNSUBSCRIBED' });
    expect(at(p)).toEqual(['None', 'None']);
    expect(words(p.juliet.all.slice(1))).toEqual(['route unsubscribed', 'forget request']);
    expect(words(p.romeo.all.slice(2))).toEqual(['deliver unsubscribed to interested', 'push none']);
  });
});

describe('RFC 6121 §3.2 canceling a subscription, at both servers', () => {
  it('§3.2.1-§3.2.3 juliet cancels romeo\'s subscription: unavailable presence first, then "unsubscribed"; romeo "None", juliet "None"', () => {
    const p = new Pair('To');
    p.send('juliet', { type: 'OUT_UNSUBSCRIBED' });
    expect(words(p.juliet.all)).toEqual(['presence unavailable', 'route unsubscribed', 'push none']); // §3.2.2
    expect(words(p.romeo.all)).toEqual(['deliver unsubscribed to interested', 'push none']); // §3.2.3
    expect(at(p)).toEqual(['None', 'None']);
  });

  it('§3.2 from "Both": juliet cancels, romeo keeps juliet\'s presence ("From" ⇔ "To")', () => {
    const p = new Pair('Both');
    p.send('juliet', { type: 'OUT_UNSUBSCRIBED' });
    expect(at(p)).toEqual(['From', 'To']);
    expect(p.agree()).toBe(true);
  });
});

describe('RFC 6121 §3.3 unsubscribing, at both servers', () => {
  it('§3.3.1-§3.3.3 romeo unsubscribes from juliet: juliet\'s server delivers, pushes, sends unavailable and answers "unsubscribed"', () => {
    const p = new Pair('To');
    p.send('romeo', { type: 'OUT_UNSUBSCRIBE' });
    expect(words(p.romeo.all)).toEqual(['route unsubscribe', 'push none']); // §3.3.2
    expect(words(p.juliet.all)).toEqual(['deliver unsubscribe to interested', 'push none', 'presence unavailable', 'reply unsubscribed']); // §3.3.3
    expect(p.wire).toEqual(['romeo→juliet route unsubscribe', 'juliet→romeo reply unsubscribed']);
    expect(at(p)).toEqual(['None', 'None']); // the reply changes nothing more at romeo's: §A.3.4 "None"
  });

  it('§3.3 from "Both": romeo unsubscribes, juliet keeps romeo\'s presence', () => {
    const p = new Pair('Both');
    p.send('romeo', { type: 'OUT_UNSUBSCRIBE' });
    expect(at(p)).toEqual(['From', 'To']);
    expect(p.agree()).toBe(true);
  });

  it('§3.3.3 romeo withdraws a pending request: juliet\'s server forgets the held request', () => {
    const p = new Pair();
    p.send('romeo', { type: 'OUT_SUBSCRIBE' });
    p.send('romeo', { type: 'OUT_UNSUBSCRIBE' });
    expect(at(p)).toEqual(['None', 'None']);
    expect(words(p.juliet.all.slice(1))).toContain('forget request');
  });
});

/**
 * Every row of Tables 2-5 with the contact's server in the matching state: what the user's
 * server routes is processed there by Tables 6-9 (and any auto-reply comes back), and the two
 * ends still agree. The contact's state changes exactly when the user's does: the appendix's
 * tables are each other's mirror.
 */
describe('RFC 6121 §A.2 rows at the user\'s server, §A.3 at the contact\'s server: both ends agree', () => {
  const stanzas: readonly SubscriptionStanza[] = ['subscribe', 'unsubscribe', 'subscribed', 'unsubscribed'];
  const cases = stanzas.flatMap((presence) =>
    SUBSCRIPTION_STATES.map((state) => ({ presence, state, section: OUTBOUND[presence].section.slice(1), contact: mirror(state) })),
  );
  for (const c of cases) {
    it(`${c.section} ${c.presence}: romeo "${c.state}", juliet "${c.contact}"`, () => {
      const p = new Pair(c.state);
      expect(p.agree()).toBe(true);
      p.send('romeo', { type: `OUT_${c.presence.toUpperCase()}` as 'OUT_SUBSCRIBE' });
      expect(p.agree(), `romeo "${p.romeo.state()}", juliet "${p.juliet.state()}"`).toBe(true);
      expect(p.juliet.state() !== c.contact).toBe(p.romeo.state() !== c.state);
    });
  }

  it('the mirror pairs the nine §A.1 states one to one, and is its own inverse', () => {
    expect(new Set(SUBSCRIPTION_STATES.map(mirror)).size).toBe(9);
    for (const s of SUBSCRIPTION_STATES) expect(mirror(mirror(s))).toBe(s);
    expect(mirror('To')).toBe('From');
    expect(mirror('None + Pending Out')).toBe('None + Pending In');
    expect(mirror('From + Pending Out')).toBe('To + Pending In');
  });
});
