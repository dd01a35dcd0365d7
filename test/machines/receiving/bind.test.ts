import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import type { ReceivingEntityMachineInput } from '../../../machines/receiving/index.js';
import { child, el, text } from '../../../machines/xml.js';
import {
  DOMAIN,
  USER,
  bindIq,
  element,
  header,
  iqErrorOf,
  plainAuth,
  sent,
  startServer,
  streamErrorOf,
  throughTls,
  types,
  type Harness,
} from './harness.js';

/** Authenticated and restarted: <bind/> is on offer. */
function atBind(input: Partial<ReceivingEntityMachineInput> = {}): Harness {
  const h = startServer(input);
  throughTls(h);
  plainAuth(h);
  h.send(header());
  h.take();
  return h;
}

const jidOf = (h: Harness) => {
  const iq = sent(h.all).find((e) => e.name === 'iq' && e.attrs.type === 'result');
  return iq && text(child(child(iq, 'bind', NS.BIND)!, 'jid', NS.BIND)!);
};

describe('receiving entity: resource binding (RFC 6120 §7)', () => {
  it('§7.7.2.1 bad-request for an unusable resourcepart; the stream stays and a retry binds', () => {
    const h = atBind();
    const out = h.step(bindIq('b1', ' \t '));
    expect(out).toEqual([
      {
        type: 'send',
        element: el('iq', NS.CLIENT, { id: 'b1', type: 'error' }, el('error', NS.CLIENT, { type: 'modify' }, el('bad-request', NS.STANZAS))),
      },
    ]);
    expect(h.at()).toEqual(['open.negotiating.resourceBinding.featuresSent']);
    h.send(bindIq('b2', 'balcony'));
    h.send({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: false, boundCount: 0 });
    expect(jidOf(h)).toBe(`${USER}@${DOMAIN}/balcony`);
  });

  it('§7.7.2.1 / §8.2.3 bad-request for a bind IQ of type get', () => {
    const h = atBind();
    const get = el('iq', NS.CLIENT, { id: 'g', type: 'get' }, el('bind', NS.BIND));
    expect(iqErrorOf(h.step(element(get)))).toBe('bad-request');
  });

  it('§8.2.3 rule 4 / §8.3.1: an IQ result or error carrying <bind/> is no bind request and is never answered', () => {
    for (const type of ['result', 'error']) {
      const h = atBind();
      const reply = el('iq', NS.CLIENT, { id: 'r', type }, el('bind', NS.BIND));
      const out = h.step(element(reply));
      // Not a bind attempt: no IQ error back, but a stanza before binding (§7.1) ends the stream.
      expect(iqErrorOf(out)).toBeUndefined();
      expect(streamErrorOf(out)).toBe('not-authorized');
    }
  });

  it("§7.7.2.2 #2 'disallow': <conflict/> (type modify), the stream stays, another resourcepart binds", () => {
    const h = atBind({ resourceConflict: 'disallow' });
    h.send(bindIq('b1', 'balcony'));
    const out = h.step({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: true, boundCount: 1 });
    expect(sent(out)).toEqual([
      el('iq', NS.CLIENT, { id: 'b1', type: 'error' }, el('error', NS.CLIENT, { type: 'modify' }, el('conflict', NS.STANZAS))),
    ]);
    expect(types(out)).not.toContain('bound');
    h.send(bindIq('b2', 'orchard'));
    h.send({ type: 'RESOURCE_STATUS', resource: 'orchard', inUse: false, boundCount: 1 });
    expect(jidOf(h)).toBe(`${USER}@${DOMAIN}/orchard`);
  });

  it("§7.7.2.2 #3 'override': bound with replace=true so the other session gets <conflict/>", () => {
    const h = atBind({ resourceConflict: 'override' });
    h.send(bindIq('b1', 'balcony'));
    const out = h.step({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: true, boundCount: 1 });
    expect(out[0]).toEqual({ type: 'bound', jid: `${USER}@${DOMAIN}/balcony`, replace: true });
    expect(jidOf(h)).toBe(`${USER}@${DOMAIN}/balcony`);
  });

  it("§7.7.2.2 #1 'generate': a new server-generated resourcepart is checked and bound", () => {
    const h = atBind({ resourceConflict: 'generate' });
    h.send(bindIq('b1', 'balcony'));
    const again = h.step({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: true, boundCount: 1 });
    expect(again).toHaveLength(1);
    const q = again[0]!;
    if (q.type !== 'queryResource') throw new Error('expected a new queryResource');
    expect(q.resource).not.toBe('balcony');
    // a stale answer about the old resourcepart is ignored
    expect(h.step({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: false, boundCount: 1 })).toEqual([]);
    const out = h.step({ type: 'RESOURCE_STATUS', resource: q.resource, inUse: false, boundCount: 1 });
    expect(out[0]).toEqual({ type: 'bound', jid: `${USER}@${DOMAIN}/${q.resource}`, replace: false });
  });

  it('§7.6.2.1 resource-constraint when the account reached maxResourcesPerAccount', () => {
    const h = atBind({ maxResourcesPerAccount: 2 });
    h.send(bindIq('b1'));
    const q = h.all[h.all.length - 1]!;
    if (q.type !== 'queryResource') throw new Error('expected queryResource');
    const out = h.step({ type: 'RESOURCE_STATUS', resource: q.resource, inUse: false, boundCount: 2 });
    expect(sent(out)).toEqual([
      el('iq', NS.CLIENT, { id: 'b1', type: 'error' }, el('error', NS.CLIENT, { type: 'wait' }, el('resource-constraint', NS.STANZAS))),
    ]);
  });

  it('§7.6.2.2 not-allowed when local policy forbids binding', () => {
    const h = atBind();
    h.send(bindIq('b1'));
    const q = h.all[h.all.length - 1]!;
    if (q.type !== 'queryResource') throw new Error('expected queryResource');
    const out = h.step({ type: 'RESOURCE_STATUS', resource: q.resource, inUse: false, boundCount: 0, allowed: false });
    expect(sent(out)).toEqual([
      el('iq', NS.CLIENT, { id: 'b1', type: 'error' }, el('error', NS.CLIENT, { type: 'cancel' }, el('not-allowed', NS.STANZAS))),
    ]);
  });

  it('§7.6: a server-generated resourcepart found in use is replaced by another', () => {
    const h = atBind({ resourceConflict: 'disallow' });
    h.send(bindIq('b1'));
    const q1 = h.all[h.all.length - 1]!;
    if (q1.type !== 'queryResource') throw new Error('expected queryResource');
    const q2 = h.step({ type: 'RESOURCE_STATUS', resource: q1.resource, inUse: true, boundCount: 1 })[0];
    expect(q2?.type === 'queryResource' && q2.resource !== q1.resource).toBe(true);
  });

  it('§7.7.3 retry limit: the maxBindAttempts-th error is followed by <policy-violation/>', () => {
    const h = atBind({ maxBindAttempts: 5 });
    for (let i = 0; i < 4; i++) expect(iqErrorOf(h.step(bindIq(`b${i}`, '')))).toBe('bad-request');
    const last = h.step(bindIq('b5', ''));
    expect(types(last)).toEqual(['send:iq', 'send:error', 'closeStream']);
    expect(streamErrorOf(last)).toBe('policy-violation');
  });

  it('§7.1 / §4.3.5 a stanza other than the bind request before binding → <not-authorized/>', () => {
    const h = atBind();
    const out = h.step(element(el('presence', NS.CLIENT)));
    expect(streamErrorOf(out)).toBe('not-authorized');
    expect(types(out)).toEqual(['send:error', 'closeStream']);
  });

  it('§7.1: a stanza while the registry is being asked is also before binding → <not-authorized/>', () => {
    const h = atBind();
    h.send(bindIq('b1', 'balcony'));
    expect(streamErrorOf(h.step(element(el('presence', NS.CLIENT))))).toBe('not-authorized');
  });

  it('§7.3.2 no restart after binding: a new stream header is an error (bad-format)', () => {
    const h = atBind();
    h.send(bindIq('b1', 'balcony'));
    h.send({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: false, boundCount: 0 });
    expect(streamErrorOf(h.step(header()))).toBe('bad-format');
  });

  it('binding twice is refused with <not-authorized/> (one connected resource per stream, §7.1)', () => {
    const h = atBind();
    h.send(bindIq('b1', 'balcony'));
    h.send({ type: 'RESOURCE_STATUS', resource: 'balcony', inUse: false, boundCount: 0 });
    expect(streamErrorOf(h.step(bindIq('b2', 'orchard')))).toBe('not-authorized');
  });
});
