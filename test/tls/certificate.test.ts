import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificate,
  createSelfSignedCertificate,
  loadOrCreateCertificate,
  OID_SRV_NAME,
  OID_XMPP_ADDR,
  presentedIdentifiers,
  type CertificateBundle,
} from '../../runtime/tls/index.js';

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('RFC 6120 §13.7.1.2 server certificate generation', () => {
  let bundle: CertificateBundle;
  beforeAll(() => {
    bundle = createSelfSignedCertificate('example.com');
  });

  it('presents DNS-ID, SRV-IDs for both XMPP services, XmppAddr and CN (§13.7.1.2.2 example)', () => {
    expect(presentedIdentifiers(bundle.certPem)).toEqual({
      dnsIds: ['example.com'],
      srvIds: ['_xmpp-client.example.com', '_xmpp-server.example.com'],
      xmppAddrs: ['example.com'],
      uriIds: [],
      cn: ['example.com'],
    });
    // The same from DER, as node:tls hands it over in peerCertificate.raw.
    const der = new X509Certificate(bundle.certPem).raw;
    expect(presentedIdentifiers(der)).toEqual(presentedIdentifiers(bundle.certPem));
  });

  it('is read the same way by OpenSSL, whose object table names the otherName OIDs SRVName (RFC 4985) and XmppAddr (§13.7.1.4)', () => {
    const text = openssl(['x509', '-noout', '-text'], bundle.certPem);
    expect(text).toContain('DNS:example.com');
    expect(text).toContain('othername: SRVName::_xmpp-client.example.com');
    expect(text).toContain('othername: SRVName::_xmpp-server.example.com');
    expect(text).toContain('othername: XmppAddr::example.com');
    expect(text).toMatch(/Subject: CN\s*=\s*example\.com/);

    // Walk the subjectAltName extnValue with asn1parse and check each otherName type-id.
    const outer = openssl(['asn1parse', '-i'], bundle.certPem).split('\n');
    const sanAt = outer.findIndex((l) => l.includes('X509v3 Subject Alternative Name'));
    const octet = outer.slice(sanAt + 1).find((l) => l.includes('OCTET STRING'));
    const offset = octet?.trim().split(':')[0];
    expect(offset).toMatch(/^\d+$/);
    const inner = openssl(['asn1parse', '-i', '-strparse', offset!], bundle.certPem);
    const objects = [...inner.matchAll(/OBJECT\s+:(\S+)/g)].map((m) => m[1]);
    expect(objects).toEqual(['SRVName', 'SRVName', 'XmppAddr']);
    expect(inner).toMatch(/IA5STRING\s+:_xmpp-client\.example\.com/);
    expect(inner).toMatch(/UTF8STRING\s+:example\.com/);
    // And those names are OpenSSL's for exactly our dotted OIDs.
    const table = openssl(['list', '-objects']);
    expect(table).toContain(`SRVName, ${OID_SRV_NAME}`);
    expect(table).toContain(`XmppAddr, ${OID_XMPP_ADDR}`);
  });

  it('is valid now, for a year, with the key that signed it (§13.7.1.1: SHA-256, not a CA)', () => {
    const x509 = new X509Certificate(bundle.certPem);
    const now = Date.now();
    expect(Date.parse(x509.validFrom)).toBeLessThanOrEqual(now);
    expect(Date.parse(x509.validTo)).toBeGreaterThan(now + 364 * 24 * 3600 * 1000);
    expect(Date.parse(x509.validTo)).toBeLessThanOrEqual(now + 366 * 24 * 3600 * 1000);
    expect(x509.checkPrivateKey(createPrivateKey(bundle.keyPem))).toBe(true);
    // Self-signed: its own public key verifies its signature.
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.ca).toBe(false);
    const text = openssl(['x509', '-noout', '-text'], bundle.certPem);
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toContain('CA:FALSE');
  });

  it('honours days, keyBits and now', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const short = createSelfSignedCertificate('example.org', { days: 7, keyBits: 1024, now });
    const x509 = new X509Certificate(short.certPem);
    expect(new Date(x509.validTo).toISOString()).toBe('2030-01-08T00:00:00.000Z');
    expect(Date.parse(x509.validFrom)).toBeLessThanOrEqual(now.getTime());
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
  });

  it('writes IDN identifiers as A-labels, XmppAddr as the UTF-8 domainpart (RFC 6125 §6.4.2, RFC 6120 §13.7.1.4)', () => {
    const idn = createSelfSignedCertificate('Bücher.example', { keyBits: 1024 });
    expect(presentedIdentifiers(idn.certPem)).toEqual({
      dnsIds: ['xn--bcher-kva.example'],
      srvIds: ['_xmpp-client.xn--bcher-kva.example', '_xmpp-server.xn--bcher-kva.example'],
      xmppAddrs: ['bücher.example'],
      uriIds: [],
      cn: ['xn--bcher-kva.example'],
    });
  });

  it('builds arbitrary identifier sets, and none at all but a CN', () => {
    const custom = createCertificate({
      dnsNames: ['*.example.net', 'example.net'],
      srvNames: ['_xmpp-server.chat.example.net'],
      xmppAddrs: ['chat.example.net', 'juliet@example.net'],
      uris: ['xmpp:example.net'],
      cn: 'Example Internet Services',
      keyBits: 1024,
    });
    expect(presentedIdentifiers(custom.certPem)).toEqual({
      dnsIds: ['*.example.net', 'example.net'],
      srvIds: ['_xmpp-server.chat.example.net'],
      xmppAddrs: ['chat.example.net', 'juliet@example.net'],
      uriIds: ['xmpp:example.net'],
      cn: ['Example Internet Services'],
    });
    const bare = createCertificate({ cn: 'example.net', keyBits: 1024 });
    expect(presentedIdentifiers(bare.certPem)).toEqual({ dnsIds: [], srvIds: [], xmppAddrs: [], uriIds: [], cn: ['example.net'] });
    expect(new X509Certificate(bare.certPem).subjectAltName).toBeUndefined();
  });

  it('refuses a non-ASCII name where the encoding is IA5String', () => {
    expect(() => createCertificate({ dnsNames: ['bücher.example'], keyBits: 1024 })).toThrow(/IA5String/);
  });
});

describe('loadOrCreateCertificate', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'xmpp-tls-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates cert.pem and key.pem (and the directory) on first run, then reuses them', () => {
    const dir = join(root, 'nested', 'certs');
    const first = loadOrCreateCertificate(dir, 'example.com');
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toBe(first.certPem);
    expect(readFileSync(join(dir, 'key.pem'), 'utf8')).toBe(first.keyPem);
    expect(statSync(join(dir, 'key.pem')).mode & 0o077).toBe(0);
    expect(presentedIdentifiers(first.certPem).dnsIds).toEqual(['example.com']);

    const second = loadOrCreateCertificate(dir, 'example.com');
    expect(second).toEqual(first);
    expect(new X509Certificate(second.certPem).checkPrivateKey(createPrivateKey(second.keyPem))).toBe(true);
  });

  it('makes a new pair when only one of the two files is there', () => {
    const dir = join(root, 'half');
    const first = loadOrCreateCertificate(dir, 'example.com');
    rmSync(join(dir, 'key.pem'));
    const again = loadOrCreateCertificate(dir, 'example.com');
    expect(again.certPem).not.toBe(first.certPem);
    expect(new X509Certificate(again.certPem).checkPrivateKey(createPrivateKey(again.keyPem))).toBe(true);
  });

  it('loads what an operator put there, untouched', () => {
    const dir = join(root, 'operator');
    const own = createSelfSignedCertificate('operator.example', { keyBits: 1024 });
    loadOrCreateCertificate(dir, 'operator.example'); // creates the directory
    writeFileSync(join(dir, 'cert.pem'), own.certPem);
    writeFileSync(join(dir, 'key.pem'), own.keyPem);
    expect(loadOrCreateCertificate(dir, 'operator.example')).toEqual(own);
  });
});
