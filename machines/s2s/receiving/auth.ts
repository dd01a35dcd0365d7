/**
 * SASL EXTERNAL on a server-to-server stream, receiving server side: RFC 6120 §6.4 flow and
 * §6.5 failures, XEP-0178 §3 for what the certificate must prove. EXTERNAL is the only
 * mechanism here: servers authenticate each other by certificate (or by dialback, which is
 * not SASL); password mechanisms name accounts, which servers do not have.
 *
 * The elements (`<challenge/>`, `<success/>`, `<failure/>`) and the base 64 rules are the
 * client-to-server ones (../../receiving/auth.ts, ../../sasl/encoding.ts).
 */
import { decodeSaslData, fromUtf8 } from '../../sasl/encoding.js';
import { certificateAuthenticates, type PeerCertificate } from '../../identity.js';
import type { SaslFailureCondition } from '../../conditions.js';
import { attr, text, type XmlElement } from '../../xml.js';
import { domainOf } from '../header.js';
import type { ExternalStep } from './types.js';

export { challengeElement, saslFailureElement, successElement } from '../../receiving/auth.js';

export const EXTERNAL = 'EXTERNAL';

/** What the check of an EXTERNAL exchange reads. */
export interface ExternalView {
  /** TLS is on: the only source of a certificate here. */
  readonly secured: boolean;
  readonly certificate: PeerCertificate | undefined;
  /** The 'from' of the current initial header, as a domain (§4.7.1). */
  readonly peerDomain: string | undefined;
}

function failure(condition: SaslFailureCondition, text?: string): ExternalStep {
  return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
}

/**
 * §6.4.2: evaluate an `<auth/>`, in this order:
 * 1. no 'mechanism', or not EXTERNAL → invalid-mechanism (§6.5.7);
 * 2. the stream is not encrypted → encryption-required (§6.5.4): without TLS there is no
 *    certificate for EXTERNAL to use;
 * 3. no character data: no initial response, so an empty challenge (§6.4.2; RFC 4422 App. A);
 * 4. otherwise the initial response is the authzid (see externalResponse).
 */
export function externalAuth(auth: XmlElement, view: ExternalView): ExternalStep {
  if (attr(auth, 'mechanism') !== EXTERNAL) return failure('invalid-mechanism');
  if (!view.secured) return failure('encryption-required');
  const data = text(auth);
  if (data === '') return { kind: 'challenge' };
  return externalResponse(data, view);
}

/**
 * The authzid, from the initial response or the `<response/>` to our empty challenge:
 * - not strict base 64 → incorrect-encoding (§6.5.5); not UTF-8 → malformed-request (§6.5.8);
 * - empty ('=' or nothing, §6.4.2): the identity is the header's 'from' (XEP-0178 §3 step
 *   11a implementation note); no 'from' either → not-authorized (§6.5.10): nothing to check
 *   the certificate against;
 * - given: it MUST be a domainpart (§6.3.8) and, when the header has a 'from', that same
 *   domain (XEP-0178 §3 step 11 matches the 'from'; §6.4.6 correlates the two) → else
 *   invalid-authzid (§6.5.6). Without a 'from', the authzid is the identity claimed.
 * - the certificate must authenticate the identity (trusted chain and an RFC 6125 match,
 *   §13.7.2.1) → else not-authorized (XEP-0178 §3 step 11b).
 */
export function externalResponse(data: string, view: ExternalView): ExternalStep {
  const bytes = decodeSaslData(data);
  if (bytes === undefined) return failure('incorrect-encoding');
  const authzid = fromUtf8(bytes);
  if (authzid === undefined) return failure('malformed-request');
  let identity = view.peerDomain;
  if (authzid !== '') {
    const claimed = domainOf(authzid);
    if (claimed === undefined || (view.peerDomain !== undefined && claimed !== view.peerDomain)) return failure('invalid-authzid');
    identity = claimed;
  }
  if (identity === undefined) return failure('not-authorized', "no 'from' and no authorization identity: nothing to authenticate");
  const verdict = certificateAuthenticates(view.certificate, identity);
  if (!verdict.ok) return failure('not-authorized', `the certificate does not authenticate ${identity}`);
  return { kind: 'success', domain: identity };
}
