/**
 * Reading the receiving server's `<stream:features/>` (§4.3.2) and deciding the next step of
 * a server-to-server negotiation: TLS (§5.3.1), then authentication: SASL EXTERNAL
 * (XEP-0178 §3) or Server Dialback (XEP-0220 §2.4.2), then completion (§4.3.5).
 */
import { parseDialbackFeature, type DialbackFeature } from '../../dialback/elements.js';
import { NS } from '../../ns.js';
import { child, childElements, text, type XmlElement } from '../../xml.js';
import type { InitiatingServerInput } from './types.js';

/** What a features element offers a server. */
export interface OfferedServerFeatures {
  readonly starttls: boolean;
  /** §5.3.1: `<required/>` inside `<starttls/>`, or STARTTLS is the only feature. */
  readonly starttlsRequired: boolean;
  /** §6.4.1 mechanism names as offered (at most the first 32). */
  readonly mechanisms: readonly string[];
  /** XEP-0220 §2.4.2 `<dialback xmlns='urn:xmpp:features:dialback'/>`. */
  readonly dialback: DialbackFeature;
}

const MAX_MECHANISMS = 32;

export function offeredServerFeatures(features: XmlElement): OfferedServerFeatures {
  const starttls = child(features, 'starttls', NS.TLS);
  const mechanisms = child(features, 'mechanisms', NS.SASL);
  return {
    starttls: starttls !== undefined,
    starttlsRequired: starttls !== undefined && (child(starttls, 'required', NS.TLS) !== undefined || childElements(features).length === 1),
    mechanisms: mechanisms
      ? childElements(mechanisms)
          .filter((m) => m.name === 'mechanism' && m.xmlns === NS.SASL)
          .slice(0, MAX_MECHANISMS)
          .map((m) => text(m).trim())
      : [],
    dialback: parseDialbackFeature(features),
  };
}

/** §5.3.1 with the policy: certificates required means TLS required (only TLS carries certificates). */
export function tlsRequired(input: Pick<InitiatingServerInput, 'tls' | 'dialback'>): boolean {
  return input.tls === 'required' || !input.dialback.dialbackAllowed;
}

/** Dialback is possible for us: policy allows it and we have a secret to make keys with (XEP-0220 §2.1.1). */
export function dialbackPossible(input: Pick<InitiatingServerInput, 'dialback' | 'secret'>): boolean {
  return input.dialback.dialbackAllowed && input.secret !== undefined;
}

export type ServerFeatureDecision =
  /** §6.4.6: the features after the SASL restart: negotiation is complete (§4.3.5). */
  | { readonly kind: 'authenticated' }
  /** §5.4.2.1: STARTTLS offered on a plain stream: taken (under either TLS policy). */
  | { readonly kind: 'starttls' }
  /** §5.3.1: TLS is required by our policy and not offered. */
  | { readonly kind: 'tls-unavailable' }
  /** XEP-0220 §2.1.2 note: a verification-only stream, ready for `<db:verify/>`. */
  | { readonly kind: 'verify-ready' }
  /** XEP-0178 §3 step 10: `<auth mechanism='EXTERNAL'/>`. */
  | { readonly kind: 'external' }
  /** XEP-0220 §2.1.1: Step 1 for our pair. */
  | { readonly kind: 'dialback' }
  /** Certificates required (no dialback), and EXTERNAL is not offered, or we have no certificate. */
  | { readonly kind: 'certificate-required' }
  /** Neither EXTERNAL nor dialback is possible with this peer (or, to verify, no dialback). */
  | { readonly kind: 'no-authentication' };

/** What the decision reads besides the features. */
export interface FeatureView {
  readonly secured: boolean;
  readonly saslDone: boolean;
  readonly externalFailed: boolean;
}

/**
 * The order is the §4.3 layering: TLS first (§5.3.1, taken whenever offered: it protects
 * the stanzas and carries the certificates), then authentication. EXTERNAL comes before
 * dialback (XEP-0178 §3 step 10: "its preferred SASL mechanism"; a certificate is the
 * stronger proof); it needs TLS and a certificate of ours, and is tried once. Dialback needs
 * the `urn:xmpp:features:dialback` feature: the traditional `xmlns:db` declaration on the
 * response header (XEP-0220 §2.4.1) is not visible, StreamHeader carries no namespace
 * declarations, so a server that only declares it is not asked for dialback.
 */
export function decideServerFeatures(offered: OfferedServerFeatures, input: InitiatingServerInput, view: FeatureView): ServerFeatureDecision {
  if (view.saslDone) return { kind: 'authenticated' };
  if (!view.secured && offered.starttls) return { kind: 'starttls' };
  if (!view.secured && tlsRequired(input)) return { kind: 'tls-unavailable' };
  if (input.purpose === 'verify') return offered.dialback.advertised ? { kind: 'verify-ready' } : { kind: 'no-authentication' };
  if (view.secured && input.certificate && !view.externalFailed && offered.mechanisms.includes('EXTERNAL')) return { kind: 'external' };
  if (!input.dialback.dialbackAllowed) return { kind: 'certificate-required' };
  if (offered.dialback.advertised && dialbackPossible(input)) return { kind: 'dialback' };
  return { kind: 'no-authentication' };
}
