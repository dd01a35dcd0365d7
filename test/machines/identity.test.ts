import { describe, expect, it } from 'vitest';
import { certificateAuthenticates, identifiesService, type PresentedIdentifiers } from '../../machines/identity.js';

const none: PresentedIdentifiers = { dnsIds: [], srvIds: [], xmppAddrs: [], uriIds: [], cn: [] };

describe('server certificates authenticate a domain (RFC 6120 §13.7.2.1, RFC 6125 §6)', () => {
  it('an SRV-ID for _xmpp-server authenticates the domain; one for _xmpp-client does not', () => {
    expect(identifiesService({ ...none, srvIds: ['_xmpp-server.b.test'] }, 'b.test', 'xmpp-server')).toMatchObject({
      ok: true,
      matched: 'srv-id',
    });
    expect(identifiesService({ ...none, srvIds: ['_xmpp-client.b.test'] }, 'b.test', 'xmpp-server').ok).toBe(false);
  });

  it('a trusted chain with a DNS-ID for another name does not authenticate, and the reason names what it presents', () => {
    const result = certificateAuthenticates({ trusted: true, identifiers: { ...none, dnsIds: ['c.test'] } }, 'b.test');
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('DNS-IDs [c.test]') });
  });

  it('a matching name on an untrusted chain, or no certificate at all, does not authenticate', () => {
    expect(certificateAuthenticates({ trusted: false, identifiers: { ...none, dnsIds: ['b.test'] } }, 'b.test').ok).toBe(false);
    expect(certificateAuthenticates(undefined, 'b.test').ok).toBe(false);
    expect(certificateAuthenticates({ trusted: true, identifiers: { ...none, dnsIds: ['*.test'] } }, 'b.test').ok).toBe(false);
    expect(certificateAuthenticates({ trusted: true, identifiers: { ...none, dnsIds: ['*.b.test'] } }, 'x.b.test').ok).toBe(true);
  });
});
