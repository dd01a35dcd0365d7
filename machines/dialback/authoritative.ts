/**
 * The Authoritative Server's answer to a `<db:verify/>` request, XEP-0220 §2.2.2: a pure
 * function, since the answer depends on the request and the secret alone (Step 3 is one
 * element in, one element out; no state survives it).
 *
 * - The request's 'to' (the Sender Domain) is not ours → a dialback error item-not-found
 *   (§2.2.2, §2.5), from that very domain "for the purpose of identifying the original
 *   request". Not a stream error and no stream close: the stream may carry other pairs.
 *   (RFC 6120 §4.9.3.6 `<host-unknown/>` is for a stream header's 'to', which the stream
 *   machine checks before any dialback element can arrive.)
 * - Otherwise recompute the key from 'from', 'to', 'id' and the Sender Domain's secret and
 *   compare in constant time: type='valid' or type='invalid'. "Doesn't know anything about
 *   the StreamID" is covered by the same comparison: a key for another stream ID differs.
 *
 * Choice: the secret is per hosted domain (`secretFor`), as the XEP's examples have one per
 * domain; a server that shares one secret across its domains returns the same one for each.
 */
import type { XmlElement } from '../xml.js';
import { verifyAnswer, verifyError } from './elements.js';
import { keysEqual, type DialbackSecret } from './key.js';
import type { DbVerifyRequest } from './types.js';

/** The secret of a domain this server is authoritative for; undefined when it hosts no such domain. */
export type SecretFor = (domain: string) => DialbackSecret | undefined;

export interface AuthoritativeAnswer {
  readonly verdict: 'valid' | 'invalid' | 'item-not-found';
  /** Step 3, to send back on the stream the request came on. */
  readonly element: XmlElement;
}

export function authoritativeVerify(request: DbVerifyRequest, secretFor: SecretFor): AuthoritativeAnswer {
  // The answer's 'from' and 'to' are the request's swapped, its 'id' copied (§2.2.2).
  const secret = secretFor(request.to);
  if (secret === undefined) return { verdict: 'item-not-found', element: verifyError(request.to, request.from, request.id, 'item-not-found') };
  // The key signs Receiving Server ('from'), Originating Server ('to') and Stream ID ('id').
  const expected = secret.key(request.from, request.to, request.id);
  const verdict = keysEqual(request.key, expected) ? 'valid' : 'invalid';
  return { verdict, element: verifyAnswer(request.to, request.from, request.id, verdict) };
}
