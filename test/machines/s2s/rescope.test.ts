/** RFC 6120 §4.8.3 implementation note: stanza re-scoping between 'jabber:client' and 'jabber:server'. */
import { describe, expect, it } from 'vitest';
import { NS } from '../../../machines/ns.js';
import { toClientScope, toServerScope } from '../../../machines/s2s/rescope.js';
import { el } from '../../../machines/xml.js';

describe('stanza re-scoping (RFC 6120 §4.8.3)', () => {
  const quoted = el('message', NS.CLIENT, { to: 'x@a.test' }, el('body', NS.CLIENT, {}, 'quoted'));
  const stanza = el(
    'message',
    NS.CLIENT,
    { from: 'alice@a.test/r', to: 'bob@b.test', type: 'chat' },
    el('body', NS.CLIENT, {}, 'hi'),
    el('forwarded', 'urn:xmpp:forward:0', {}, quoted),
  );

  it('the stanza and its content-namespace children move to jabber:server; an extension and what it contains keep theirs', () => {
    const out = toServerScope(stanza);
    expect(out.xmlns).toBe(NS.SERVER);
    expect(out.attrs).toEqual(stanza.attrs);
    const [body, forwarded] = out.children as [typeof stanza, typeof stanza];
    expect(body.xmlns).toBe(NS.SERVER);
    expect(forwarded).toBe(stanza.children[1]); // "the rule does not apply to elements qualified by namespaces other than..."
    expect((forwarded.children[0] as typeof stanza).xmlns).toBe(NS.CLIENT);
  });

  it('and back: a peer server’s stanza delivered to a client is jabber:client again, equal to the original', () => {
    expect(toClientScope(toServerScope(stanza))).toEqual(stanza);
  });

  it('a stanza already in the target scope is returned as it is', () => {
    expect(toClientScope(stanza)).toBe(stanza);
  });
});
