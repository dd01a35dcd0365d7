import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createCertificate,
  createSelfSignedCertificate,
  presentedIdentifiers,
  verifyServiceIdentity,
  xmppCheckServerIdentity,
  type CertificateOptions,
} from '../../runtime/tls/index.js';

/** Test certificates: identifiers are what matters here, so small keys keep it quick. */
const cert = (opts: CertificateOptions): string => createCertificate({ keyBits: 1024, ...opts }).certPem;

describe('RFC 6125 §6.4.1 DNS-ID, traditional domain names', () => {
  const pem = cert({ dnsNames: ['example.com'], cn: 'Example Products, Inc.' });

  it('matches the exact domain, case-insensitively, with or without the root dot', () => {
    expect(verifyServiceIdentity(pem, 'example.com')).toEqual({ ok: true, matched: 'dns-id', value: 'example.com' });
    expect(verifyServiceIdentity(pem, 'EXAMPLE.Com')).toMatchObject({ ok: true, matched: 'dns-id' });
    expect(verifyServiceIdentity(pem, 'example.com.')).toMatchObject({ ok: true, matched: 'dns-id' });
    // A DNS-ID carries no service type (§6.3), so it serves both XMPP services.
    expect(verifyServiceIdentity(pem, 'example.com', 'xmpp-server')).toMatchObject({ ok: true, matched: 'dns-id' });
  });

  it('does not match another domain, a subdomain or a parent; the reason names what was presented', () => {
    for (const other of ['example.org', 'im.example.com', 'com', 'xample.com']) {
      const r = verifyServiceIdentity(pem, other);
      expect(r.ok, other).toBe(false);
      if (!r.ok) expect(r.reason).toContain('DNS-IDs [example.com]');
    }
  });

  it('refuses a reference identifier that is not a domain name', () => {
    expect(verifyServiceIdentity(pem, '')).toMatchObject({ ok: false });
    expect(verifyServiceIdentity(pem, '*.com')).toMatchObject({ ok: false });
  });
});

describe('RFC 6125 §6.4.3 wildcard certificates', () => {
  const pem = cert({ dnsNames: ['*.example.com'] });

  it('*.example.com matches a single left-most label', () => {
    expect(verifyServiceIdentity(pem, 'a.example.com')).toEqual({ ok: true, matched: 'dns-id', value: '*.example.com' });
    expect(verifyServiceIdentity(pem, 'IM.Example.COM')).toMatchObject({ ok: true });
  });

  it('rule 2: *.example.com matches neither example.com nor a.b.example.com', () => {
    expect(verifyServiceIdentity(pem, 'example.com').ok).toBe(false);
    expect(verifyServiceIdentity(pem, 'a.b.example.com').ok).toBe(false);
  });

  it('property: matches exactly the names of the form <one label>.example.com', () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 0, maxLength: 4 }), fc.constantFrom('example.com', 'example.org', 'com'), (labels, base) => {
        const reference = [...labels, base].join('.');
        const expected = labels.length === 1 && base === 'example.com';
        expect(verifyServiceIdentity(pem, reference).ok).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('rule 3 (a MAY, which we decline): partial wildcards never match', () => {
    expect(verifyServiceIdentity(cert({ dnsNames: ['f*.example.com'] }), 'foo.example.com').ok).toBe(false);
    expect(verifyServiceIdentity(cert({ dnsNames: ['*oo.example.com'] }), 'foo.example.com').ok).toBe(false);
    expect(verifyServiceIdentity(cert({ dnsNames: ['f*o.example.com'] }), 'foo.example.com').ok).toBe(false);
  });

  it('rule 1: a wildcard in any label but the left-most never matches; nor does *.com (§7.2)', () => {
    expect(verifyServiceIdentity(cert({ dnsNames: ['bar.*.example.com'] }), 'bar.foo.example.com').ok).toBe(false);
    expect(verifyServiceIdentity(cert({ dnsNames: ['*.*.example.com'] }), 'a.b.example.com').ok).toBe(false);
    expect(verifyServiceIdentity(cert({ dnsNames: ['*.com'] }), 'example.com').ok).toBe(false);
  });
});

describe('RFC 6125 §6.5.1 SRV-ID (RFC 4985 SRVName), RFC 6120 §13.7.1.2.1', () => {
  const clientOnly = cert({ srvNames: ['_xmpp-client.example.com'] });

  it('matches only for its own service', () => {
    expect(verifyServiceIdentity(clientOnly, 'example.com', 'xmpp-client')).toEqual({
      ok: true,
      matched: 'srv-id',
      value: '_xmpp-client.example.com',
    });
    const wrong = verifyServiceIdentity(clientOnly, 'example.com', 'xmpp-server');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.reason).toMatch(/xmpp-server.*SRV-IDs \[_xmpp-client\.example\.com\]/);
  });

  it('defaults to xmpp-client, the service a client checks', () => {
    expect(verifyServiceIdentity(clientOnly, 'example.com')).toMatchObject({ ok: true, matched: 'srv-id' });
  });

  it('compares service and domain case-insensitively, and the domain portion exactly', () => {
    const mixed = cert({ srvNames: ['_XMPP-Server.Example.COM'] });
    expect(verifyServiceIdentity(mixed, 'example.com', 'xmpp-server')).toMatchObject({ ok: true, matched: 'srv-id' });
    expect(verifyServiceIdentity(mixed, 'chat.example.com', 'xmpp-server').ok).toBe(false);
  });

  it('RFC 6120 §13.7.1.2.2 second example: per-service, per-domain identities', () => {
    const pem = cert({
      srvNames: ['_xmpp-client.example.net', '_xmpp-server.example.net', '_xmpp-server.chat.example.net'],
      dnsNames: ['example.net', '*.example.net'],
      xmppAddrs: ['example.net', 'chat.example.net'],
      cn: 'Example Internet Services',
    });
    expect(verifyServiceIdentity(pem, 'example.net', 'xmpp-client')).toMatchObject({ ok: true, matched: 'srv-id' });
    expect(verifyServiceIdentity(pem, 'chat.example.net', 'xmpp-server')).toEqual({
      ok: true,
      matched: 'srv-id',
      value: '_xmpp-server.chat.example.net',
    });
    // No SRV-ID for a client of chat.example.net, but the wildcard DNS-ID covers it.
    expect(verifyServiceIdentity(pem, 'chat.example.net', 'xmpp-client')).toEqual({
      ok: true,
      matched: 'dns-id',
      value: '*.example.net',
    });
  });
});

describe('RFC 6120 §13.7.1.4 / §13.7.2.1 XmppAddr as a reference identifier', () => {
  it('a certificate with only an XmppAddr identifies that domain', () => {
    const pem = cert({ xmppAddrs: ['example.com'] });
    expect(verifyServiceIdentity(pem, 'example.com')).toEqual({ ok: true, matched: 'xmppaddr', value: 'example.com' });
    expect(verifyServiceIdentity(pem, 'Example.COM', 'xmpp-server')).toMatchObject({ ok: true, matched: 'xmppaddr' });
    expect(verifyServiceIdentity(pem, 'other.example').ok).toBe(false);
  });

  it('a user JID names a user, not the service', () => {
    const pem = cert({ xmppAddrs: ['juliet@example.com', 'example.com/resource', '*.example.com'] });
    expect(verifyServiceIdentity(pem, 'example.com').ok).toBe(false);
    expect(verifyServiceIdentity(pem, 'a.example.com').ok).toBe(false);
  });
});

describe('RFC 6125 §6.4.4 CN-ID only as a last resort', () => {
  it('a certificate with nothing but a CN is checked against it, wildcard rules included', () => {
    expect(verifyServiceIdentity(cert({ cn: 'example.com' }), 'example.com')).toEqual({
      ok: true,
      matched: 'cn-id',
      value: 'example.com',
    });
    expect(verifyServiceIdentity(cert({ cn: '*.example.com' }), 'im.example.com')).toMatchObject({ ok: true, matched: 'cn-id' });
    expect(verifyServiceIdentity(cert({ cn: '*.example.com' }), 'example.com').ok).toBe(false);
    expect(verifyServiceIdentity(cert({ cn: 'Example Products, Inc.' }), 'example.com').ok).toBe(false);
  });

  it('a CN is not consulted once any DNS-ID, SRV-ID, URI-ID or XmppAddr is presented', () => {
    const withDns = verifyServiceIdentity(cert({ cn: 'example.com', dnsNames: ['unrelated.example'] }), 'example.com');
    expect(withDns.ok).toBe(false);
    if (!withDns.ok) expect(withDns.reason).toContain('not consulted: RFC 6125 §6.4.4');
    const others: CertificateOptions[] = [
      { srvNames: ['_xmpp-client.unrelated.example'] },
      { uris: ['xmpp:unrelated.example'] },
      { xmppAddrs: ['unrelated.example'] },
    ];
    for (const extra of others) {
      expect(verifyServiceIdentity(cert({ cn: 'example.com', ...extra }), 'example.com').ok, JSON.stringify(extra)).toBe(false);
    }
  });
});

describe('RFC 6125 §6.4.2 internationalized domain names', () => {
  it('compares A-labels: a U-label reference matches an A-label DNS-ID and SRV-ID', () => {
    const pem = createSelfSignedCertificate('bücher.example', { keyBits: 1024 }).certPem;
    expect(verifyServiceIdentity(pem, 'bücher.example')).toEqual({
      ok: true,
      matched: 'srv-id',
      value: '_xmpp-client.xn--bcher-kva.example',
    });
    expect(verifyServiceIdentity(pem, 'BÜCHER.example', 'xmpp-server')).toMatchObject({ ok: true, matched: 'srv-id' });
    expect(verifyServiceIdentity(pem, 'xn--bcher-kva.example')).toMatchObject({ ok: true });
    expect(verifyServiceIdentity(pem, 'bucher.example').ok).toBe(false);
    const dnsOnly = cert({ dnsNames: ['XN--BCHER-KVA.example'] });
    expect(verifyServiceIdentity(dnsOnly, 'bücher.example')).toMatchObject({ ok: true, matched: 'dns-id' });
  });

  it('an XmppAddr in U-labels matches an A-label reference', () => {
    const pem = cert({ xmppAddrs: ['bücher.example'] });
    expect(verifyServiceIdentity(pem, 'xn--bcher-kva.example')).toEqual({ ok: true, matched: 'xmppaddr', value: 'bücher.example' });
  });

  it('a whole-label wildcard over an IDN parent matches one more label', () => {
    const pem = cert({ dnsNames: ['*.xn--bcher-kva.example'] });
    expect(verifyServiceIdentity(pem, 'shop.bücher.example')).toMatchObject({ ok: true, matched: 'dns-id' });
    expect(verifyServiceIdentity(pem, 'bücher.example').ok).toBe(false);
  });
});

describe('presentedIdentifiers reads certificates it did not make', () => {
  it('an ECDSA certificate from OpenSSL with SRVName, XmppAddr, URI and two CNs (PEM and DER)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xmpp-tls-ec-'));
    try {
      const certPath = join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', join(dir, 'key.pem'), '-out', certPath, '-days', '2', '-utf8',
          '-subj', '/O=Example Internet Services/CN=example.net/CN=Ëxample',
          '-addext',
          'subjectAltName=DNS:example.net,otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_xmpp-server.example.net,' +
            'otherName:1.3.6.1.5.5.7.8.5;UTF8:chat.example.net,URI:xmpp:example.net',
        ],
        { stdio: 'pipe' },
      );
      const pem = readFileSync(certPath, 'utf8');
      const expected = {
        dnsIds: ['example.net'],
        srvIds: ['_xmpp-server.example.net'],
        xmppAddrs: ['chat.example.net'],
        uriIds: ['xmpp:example.net'],
        cn: ['example.net', 'Ëxample'],
      };
      expect(presentedIdentifiers(pem)).toEqual(expected);
      expect(presentedIdentifiers(new X509Certificate(pem).raw)).toEqual(expected);
      expect(verifyServiceIdentity(pem, 'example.net', 'xmpp-server')).toMatchObject({ ok: true, matched: 'srv-id' });
      expect(verifyServiceIdentity(pem, 'chat.example.net', 'xmpp-client')).toMatchObject({ ok: true, matched: 'xmppaddr' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('garbage is a failed check, not a crash', () => {
    const r = verifyServiceIdentity(Buffer.from('not a certificate'), 'example.com');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/could not be parsed/);
  });
});

describe('xmppCheckServerIdentity (node:tls checkServerIdentity)', () => {
  const pem = cert({ srvNames: ['_xmpp-client.example.com'] });
  const peer = { raw: new X509Certificate(pem).raw } as PeerCertificate;

  it('returns undefined on a match, checking the source domain rather than the host connected to (RFC 6125 §6.2.1)', () => {
    // 'x.example.com' stands for the SRV target host; the certificate names only the service.
    expect(xmppCheckServerIdentity('example.com')('x.example.com', peer)).toBeUndefined();
  });

  it('returns an Error with Node\'s mismatch code and the reason otherwise', () => {
    const err = xmppCheckServerIdentity('example.com', 'xmpp-server')('example.com', peer);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(err?.message).toMatch(/xmpp-server service 'example\.com'/);
    expect(xmppCheckServerIdentity('example.com')('example.com', {} as PeerCertificate)).toBeInstanceOf(Error);
  });
});
