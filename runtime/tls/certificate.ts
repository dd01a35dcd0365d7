/**
 * Certificates for XMPP servers (RFC 6120 §13.7.1). The server presents one during
 * the STARTTLS handshake (§5.4.3.3); with no CA at hand we make it self-signed, and
 * peers that pin it (or use it as their trust anchor) can still check identity (§13.7.2.1).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { domainToASCII, domainToUnicode } from 'node:url';
import forge from 'node-forge';
import { encodeSubjectAltNames, OID_SUBJECT_ALT_NAME } from './general-names.js';

export interface CertificateBundle {
  certPem: string;
  keyPem: string;
}

export interface CertificateOptions {
  /** dNSName entries (DNS-IDs, RFC 6125 §1.8), ASCII / A-labels; may be wildcards. */
  dnsNames?: string[];
  /** SRVName otherName entries (SRV-IDs, RFC 4985), e.g. '_xmpp-client.example.com'. */
  srvNames?: string[];
  /** XmppAddr otherName entries (RFC 6120 §13.7.1.4), UTF-8. */
  xmppAddrs?: string[];
  /** uniformResourceIdentifier entries (URI-IDs, RFC 6125 §1.8). */
  uris?: string[];
  /** Subject commonName. RFC 6120 §13.7.1.1 rule 3: the subject MUST NOT be null, so one is always set. */
  cn?: string;
  days?: number;
  keyBits?: number;
  now?: Date;
  /** Sign with this CA (its certificate and key) instead of self-signing. */
  issuer?: CertificateBundle;
  /** Make a CA certificate (cA TRUE, keyCertSign) rather than an end-entity one. */
  authority?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Back-date notBefore so a peer whose clock runs a little slow still accepts a fresh certificate. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * A certificate with exactly the subjectAltName entries asked for (also used by tests to
 * build arbitrary identifier sets): self-signed end-entity by default, signed by `issuer`
 * when given, a CA when `authority` is set.
 */
export function createCertificate(opts: CertificateOptions = {}): CertificateBundle {
  const now = opts.now ?? new Date();
  // RSA key generation in pure-JS forge is slow; Node's OpenSSL does it, forge only signs.
  const pair = generateKeyPairSync('rsa', {
    modulusLength: opts.keyBits ?? 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey);
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; clear the top bit so DER keeps it positive.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + (opts.days ?? 365) * DAY_MS);

  // UTF8String so any CN (wildcards, IDNs, human names) can be written. forge reads
  // valueTagClass as the universal string type; its typings call it a Class, hence the cast.
  const cn = opts.cn ?? opts.dnsNames?.[0] ?? 'xmpp';
  const utf8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;
  const subject: forge.pki.CertificateField[] = [{ shortName: 'CN', value: cn, valueTagClass: utf8 }];
  cert.setSubject(subject);
  const issuer = opts.issuer ? forge.pki.certificateFromPem(opts.issuer.certPem) : undefined;
  cert.setIssuer(issuer ? issuer.subject.attributes : subject);

  const extensions: object[] = opts.authority
    ? [
        // RFC 5280 §4.2.1.9 / §4.2.1.3: a CA asserts cA and may sign certificates.
        { name: 'basicConstraints', critical: true, cA: true },
        { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
        { name: 'subjectKeyIdentifier' },
      ]
    : [
        // RFC 6120 §13.7.1.1 rule 2: an end-entity certificate MUST NOT assert cA TRUE.
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
        // Servers present it to clients and, on server-to-server links, to other servers as a client.
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        { name: 'subjectKeyIdentifier' },
      ];
  // RFC 5280 §4.2.1.1: which of the issuer's keys signed it (lets a verifier build the chain).
  if (issuer) extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuer.generateSubjectKeyIdentifier().getBytes() });
  const san = {
    dnsNames: opts.dnsNames ?? [],
    srvNames: opts.srvNames ?? [],
    xmppAddrs: opts.xmppAddrs ?? [],
    uris: opts.uris ?? [],
  };
  if (san.dnsNames.length + san.srvNames.length + san.xmppAddrs.length + san.uris.length > 0) {
    // forge writes a string extension value verbatim as the extnValue OCTET STRING contents.
    extensions.push({ id: OID_SUBJECT_ALT_NAME, value: encodeSubjectAltNames(san) });
  }
  cert.setExtensions(extensions);

  // RFC 6120 §13.7.1.1 rule 4: PKCS #1 v1.5 with SHA-256.
  cert.sign(forge.pki.privateKeyFromPem(opts.issuer?.keyPem ?? pair.privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: pair.privateKey };
}

/** Self-signed certificate for the XMPP service at `domain`, with xmppServerIdentifiers(domain). */
export function createSelfSignedCertificate(
  domain: string,
  opts: { days?: number; keyBits?: number; now?: Date } = {},
): CertificateBundle {
  return createCertificate({ ...opts, ...xmppServerIdentifiers(domain) });
}

/**
 * The identifiers of the XMPP service at `domain`, as in the RFC 6120 §13.7.1.2.2 example:
 * dNSName, SRVName for _xmpp-client and _xmpp-server, XmppAddr, and CN. DNS-ID, SRV-ID and
 * CN carry A-labels (they are IA5 / DNS names); XmppAddr is a UTF8String holding the JID
 * domainpart, written in U-labels (RFC 7622 §3.2). Throws on a non-domain.
 */
export function xmppServerIdentifiers(domain: string): Pick<CertificateOptions, 'dnsNames' | 'srvNames' | 'xmppAddrs' | 'cn'> {
  const ascii = domainToASCII(domain);
  if (ascii === '') throw new Error(`not a valid domain name: ${domain}`);
  return {
    dnsNames: [ascii],
    srvNames: [`_xmpp-client.${ascii}`, `_xmpp-server.${ascii}`],
    xmppAddrs: [domainToUnicode(ascii)],
    cn: ascii,
  };
}

/** Loads <dir>/cert.pem and <dir>/key.pem, or creates them (and the directory) on first run. */
export function loadOrCreateCertificate(dir: string, domain: string): CertificateBundle {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  }
  // A lone cert or key cannot form a pair: make both anew.
  mkdirSync(dir, { recursive: true });
  const bundle = createSelfSignedCertificate(domain);
  writeFileSync(keyPath, bundle.keyPem, { mode: 0o600 });
  writeFileSync(certPath, bundle.certPem, { mode: 0o644 });
  return bundle;
}
