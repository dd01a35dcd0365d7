/**
 * The trust anchors a server uses for server-to-server TLS (RFC 6120 §13.7.2.1: the
 * peer's certificate must chain to a trusted root before its identity is checked): the
 * usual roots plus the CAs an operator configures (a private CA for a private federation,
 * a test network's CA). Node replaces its default roots when `ca` is given, so the list
 * returned holds both.
 *
 * "System store" here is Node's built-in root list (`tls.rootCertificates`, Mozilla's),
 * what Node trusts by default; `system: false` leaves it out (a closed federation that
 * trusts its own CA only).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

export interface S2sTrustOptions {
  /** PEM file(s) of CA certificates to trust besides the system store. */
  readonly caFile?: string | readonly string[];
  /** PEM text of CA certificates to trust besides the system store. */
  readonly ca?: string | readonly string[];
  /** Include Node's root store. Default true. */
  readonly system?: boolean;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificates in PEM text, each checked to parse; `origin` names it in the error. */
function certificatesIn(text: string, origin: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${origin}: no PEM certificate in it`);
  return blocks.map((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`${origin}: certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
    return `${pem}\n`;
  });
}

/** Every certificate of a PEM file; a clear error when the file is missing or holds none. */
export function readCaCertificates(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return certificatesIn(text, `CA file ${file}`);
}

/** `{ ca }` for tls.connect / tls.createSecureContext on an s2s stream: system roots + configured CAs. */
export function s2sTrust(opts: S2sTrustOptions = {}): { ca: string[] } {
  const files = opts.caFile === undefined ? [] : typeof opts.caFile === 'string' ? [opts.caFile] : opts.caFile;
  const texts = opts.ca === undefined ? [] : typeof opts.ca === 'string' ? [opts.ca] : opts.ca;
  const ca = [
    ...(opts.system === false ? [] : tls.rootCertificates),
    ...files.flatMap(readCaCertificates),
    ...texts.flatMap((t, i) => certificatesIn(t, `CA text ${i + 1}`)),
  ];
  if (ca.length === 0) throw new Error('no trust anchors: the system store is off and no CA was configured');
  return { ca };
}
