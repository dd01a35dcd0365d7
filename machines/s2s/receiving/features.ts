/**
 * Stream features of the receiving server (§4.3.2, §5.4.1, §6.4.1 on a 'jabber:server'
 * stream, XEP-0178 §3, XEP-0220 §2.4). No resource binding: servers do not bind (§7.1).
 */
import { dialbackFeature } from '../../dialback/elements.js';
import { certificateAuthenticates, type PeerCertificate } from '../../identity.js';
import { NS } from '../../ns.js';
import { el, type XmlElement } from '../../xml.js';
import type { ReceivingServerPolicy } from '../policy.js';

/** The negotiation stage a response header opens; decides the features sent with it. */
export type ServerStage =
  /** §5.3.1: TLS required and not on yet: `<starttls><required/></starttls>` alone. */
  | 'tls-required'
  /** The peer must authenticate: SASL EXTERNAL and/or dialback (and a voluntary STARTTLS). */
  | 'authenticate'
  /** After SASL success and the restart (§6.4.6): nothing mandatory is left (§4.3.5). */
  | 'authenticated';

/** TLS is required when policy says so, and whenever only certificates may authenticate the peer. */
export function tlsRequired(policy: Pick<ReceivingServerPolicy, 'tls' | 'dialback'>): boolean {
  return policy.tls === 'required' || !policy.dialback.dialbackAllowed;
}

export function stageOf(policy: Pick<ReceivingServerPolicy, 'tls' | 'dialback'>, secured: boolean, saslDone: boolean): ServerStage {
  if (!secured && tlsRequired(policy)) return 'tls-required';
  return saslDone ? 'authenticated' : 'authenticate';
}

/**
 * XEP-0178 §3 step 9: offer EXTERNAL when the 'from' of the peer's header "can be matched
 * against one of the identifiers provided in the certificate" (RFC 6125 rules, with a
 * trusted chain: `certificateAuthenticates`, RFC 6120 §13.7.2.1). Our rule: the domain the
 * peer could claim is the one its header names; a header without 'from' claims nothing, so
 * EXTERNAL is not offered (an `<auth/>` that names a domain in its authzid is still judged,
 * see ./auth.ts). Not before TLS: no certificate was presented yet.
 */
export function externalOffered(secured: boolean, certificate: PeerCertificate | undefined, peerDomain: string | undefined): boolean {
  return secured && peerDomain !== undefined && certificateAuthenticates(certificate, peerDomain).ok;
}

export interface FeatureView {
  readonly stage: ServerStage;
  /** A voluntary `<starttls/>` (§5.4.1): TLS optional and not on yet, and no pair whose state a restart would discard. */
  readonly offerTls: boolean;
  readonly offerExternal: boolean;
  readonly dialbackAllowed: boolean;
}

/**
 * The `<features/>` after a response header (§4.3.2, again after every restart §4.3.4):
 *
 * - 'tls-required': only `<starttls><required/></starttls>` (§5.3.1 SHOULD NOT advertise
 *   anything else first; XEP-0178 §3 step 3).
 * - 'authenticate': `<starttls/>` when voluntary, `<mechanisms>` with EXTERNAL when the
 *   certificate matches (XEP-0178 §3 step 9; omitted when no mechanism is offered), and the
 *   dialback feature with `<errors/>` when policy allows dialback (XEP-0220 §2.4.2: we handle
 *   dialback errors). None carries `<required/>`: either authentication will do.
 * - 'authenticated': the dialback feature again when allowed, for more domain pairs on this
 *   stream (XEP-0220 §2.6), else empty `<features/>`: negotiation is complete (§4.3.5).
 */
export function featuresElement(view: FeatureView): XmlElement {
  if (view.stage === 'tls-required') {
    return el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS)));
  }
  if (view.stage === 'authenticated') return el('features', NS.STREAMS, {}, view.dialbackAllowed && dialbackFeature());
  return el(
    'features',
    NS.STREAMS,
    {},
    view.offerTls && el('starttls', NS.TLS),
    view.offerExternal && el('mechanisms', NS.SASL, {}, el('mechanism', NS.SASL, {}, 'EXTERNAL')),
    view.dialbackAllowed && dialbackFeature(),
  );
}
