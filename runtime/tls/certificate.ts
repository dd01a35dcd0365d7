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
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Back-date notBefore so a peer whose clock runs a little slow still accepts a fresh certificate. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * A self-signed end-entity certificate with exactly the subjectAltName entries asked for
 * (also used by tests to build arbitrary identifier sets).
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
  cert.setIssuer(subject);

  const extensions: object[] = [
    // RFC 6120 §13.7.1.1 rule 2: an end-entity certificate MUST NOT assert cA TRUE.
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    // Servers present it to clients and, on server-to-server links, to other servers as a client.
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectKeyIdentifier' },
  ];
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
  cert.sign(forge.pki.privateKeyFromPem(pair.privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: pair.privateKey };
}

/**
 * Self-signed certificate for the XMPP service at `domain`, with the identifiers of the
 * RFC 6120 §13.7.1.2.2 example: dNSName, SRVName for _xmpp-client and _xmpp-server,
 * XmppAddr, and CN. DNS-ID, SRV-ID and CN carry A-labels (they are IA5 / DNS names);
 * XmppAddr is a UTF8String holding the JID domainpart, written in U-labels (RFC 7622 §3.2).
 */
export function createSelfSignedCertificate(
  domain: string,
  opts: { days?: number; keyBits?: number; now?: Date } = {},
): CertificateBundle {
  const ascii = domainToASCII(domain);
  if (ascii === '') throw new Error(`not a valid domain name: ${domain}`);
  return createCertificate({
    ...opts,
    dnsNames: [ascii],
    srvNames: [`_xmpp-client.${ascii}`, `_xmpp-server.${ascii}`],
    xmppAddrs: [domainToUnicode(ascii)],
    cn: ascii,
  });
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
