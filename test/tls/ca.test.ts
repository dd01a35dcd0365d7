import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPrivateCa } from '../../peers/ca.js';
import { presentedIdentifiers, verifyServiceIdentity } from '../../runtime/tls/index.js';

describe('private CA for tests and peers (peers/ca.ts)', () => {
  const ca = createPrivateCa('unit test CA');
  const authority = new X509Certificate(ca.certPem);

  it('the CA certificate is a CA (RFC 5280 §4.2.1.9) and self-issued', () => {
    expect(authority.ca).toBe(true);
    expect(authority.subject).toBe('CN=unit test CA');
    expect(authority.checkIssued(authority)).toBe(true);
  });

  it('a server certificate: signed by the CA, not a CA itself (RFC 6120 §13.7.1.1 rule 2), with the §13.7.1.2.2 identifiers', () => {
    const leaf = new X509Certificate(ca.issueServer('b.test').certPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(authority)).toBe(true);
    expect(leaf.verify(authority.publicKey)).toBe(true);
    expect(presentedIdentifiers(leaf.raw)).toEqual({
      dnsIds: ['b.test'],
      srvIds: ['_xmpp-client.b.test', '_xmpp-server.b.test'],
      xmppAddrs: ['b.test'],
      uriIds: [],
      cn: ['b.test'],
    });
    expect(verifyServiceIdentity(leaf.raw, 'b.test', 'xmpp-server')).toEqual({ ok: true, matched: 'srv-id', value: '_xmpp-server.b.test' });
    expect(verifyServiceIdentity(leaf.raw, 'b.test', 'xmpp-client')).toEqual({ ok: true, matched: 'srv-id', value: '_xmpp-client.b.test' });
  });

  it('a wrong-name certificate chains to the same CA but does not identify the domain it is served for', () => {
    const wrong = new X509Certificate(ca.issueWrongName('evil.test').certPem);
    expect(wrong.verify(authority.publicKey)).toBe(true);
    const r = verifyServiceIdentity(wrong.raw, 'b.test', 'xmpp-server');
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining("certificate does not identify xmpp-server service 'b.test'") });
  });

  it('another CA does not vouch for this one\'s certificates', () => {
    const other = new X509Certificate(createPrivateCa('other').certPem);
    expect(new X509Certificate(ca.issueServer('b.test').certPem).checkIssued(other)).toBe(false);
  });
});
