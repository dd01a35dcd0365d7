/**
 * Dialback keys, XEP-0220 §2.1.1 (the Initiating Server generates one) and §2.2.2 (the
 * Authoritative Server recomputes it to answer a `<db:verify/>`), with the generation method
 * both sections take from XEP-0185:
 *
 *   key = hex( HMAC-SHA256( hex(SHA256(Secret)), Receiving Server + ' ' + Originating Server + ' ' + Stream ID ) )
 *
 * "Receiving Server" is the Target Domain, "Originating Server" the Sender Domain, and the
 * Stream ID the one the Receiving Server put on its response stream header (RFC 6120 §4.7.3:
 * unpredictable and non-repeating exactly because dialback signs it). In a `<db:verify/>` the
 * three are its 'from', 'to' and 'id' (§2.1.2).
 *
 * The secret lives only inside a DialbackSecret: a private field that JSON, string conversion
 * and a machine snapshot never show, so putting one in a machine's input cannot leak it into
 * logs or commands. Only keys derived from it leave.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export class DialbackSecret {
  /** hex(SHA256(Secret)): XEP-0185 keys the HMAC with this, not with the secret itself. */
  readonly #hmacKey: string;

  constructor(secret: string) {
    if (secret.length === 0) throw new Error('a dialback secret must not be empty');
    this.#hmacKey = createHash('sha256').update(secret, 'utf8').digest('hex');
  }

  /** The key for this domain pair and stream (XEP-0220 §2.1.1, §2.2.2). */
  key(receivingDomain: string, originatingDomain: string, streamId: string): string {
    return createHmac('sha256', this.#hmacKey).update(`${receivingDomain} ${originatingDomain} ${streamId}`, 'utf8').digest('hex');
  }

  toJSON(): string {
    return '[dialback secret]';
  }

  toString(): string {
    return '[dialback secret]';
  }
}

/** One call form for callers that hold the secret as text only for a moment (tests, configuration). */
export function dialbackKey(secret: string | DialbackSecret, receivingDomain: string, originatingDomain: string, streamId: string): string {
  const s = typeof secret === 'string' ? new DialbackSecret(secret) : secret;
  return s.key(receivingDomain, originatingDomain, streamId);
}

/**
 * Whether the key a peer presented is the expected one, in time independent of where they
 * differ: a timing oracle would let a forger learn the key byte by byte. Both sides are hashed
 * first so that keys of different lengths compare in constant time too.
 */
export function keysEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && presented.length === expected.length;
}
