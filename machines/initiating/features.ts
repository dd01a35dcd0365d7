/**
 * Reading `<stream:features/>` (§4.3.2) and deciding the next negotiation step
 * (§5.3.1 TLS, §6.3.3-§6.3.4 SASL mechanism choice, §7.3.1 binding).
 */
import { NS } from '../ns.js';
import type { InitiatingEntityInput, MechanismName } from '../protocol.js';
import { IMPLEMENTED_MECHANISMS } from '../sasl/api.js';
import { child, childElements, is, text, type XmlElement } from '../xml.js';

export const isFeatures = (e: XmlElement | undefined): e is XmlElement => is(e, 'features', NS.STREAMS);

/** What the features element offers, in the server's order. */
export interface OfferedFeatures {
  readonly starttls: boolean;
  /** §5.3.1: `<required/>` inside `<starttls/>`, or STARTTLS is the only feature. */
  readonly starttlsRequired: boolean;
  /** §6.4.1 mechanism names as offered (at most the first 32: the list is the server's, not ours). */
  readonly mechanisms: readonly string[];
  /** §7.4 */
  readonly bind: boolean;
}

const MAX_MECHANISMS = 32;

export function offeredFeatures(features: XmlElement): OfferedFeatures {
  const starttls = child(features, 'starttls', NS.TLS);
  const mechanisms = child(features, 'mechanisms', NS.SASL);
  const names = mechanisms
    ? childElements(mechanisms)
        .filter((m) => m.name === 'mechanism' && m.xmlns === NS.SASL)
        .slice(0, MAX_MECHANISMS)
        .map((m) => text(m).trim())
    : [];
  return {
    starttls: starttls !== undefined,
    starttlsRequired: starttls !== undefined && (child(starttls, 'required', NS.TLS) !== undefined || childElements(features).length === 1),
    mechanisms: names,
    bind: child(features, 'bind', NS.BIND) !== undefined,
  };
}

/**
 * §6.3.3: the client's preference order decides. The first mechanism of input.mechanisms that
 * the server offers and this library implements; PLAIN only on a protected stream unless
 * policy explicitly allows it (§13.9.4: PLAIN sends the password in the clear, §6.3.4 SHOULD
 * NOT be used without TLS).
 */
export function chooseMechanism(
  offered: readonly string[],
  input: Pick<InitiatingEntityInput, 'mechanisms' | 'allowPlainWithoutTls'>,
  secured: boolean,
): MechanismName | undefined {
  return input.mechanisms.find(
    (m) => IMPLEMENTED_MECHANISMS.includes(m) && offered.includes(m) && (m !== 'PLAIN' || secured || input.allowPlainWithoutTls),
  );
}

/** The next step a features element calls for. */
export type FeatureDecision =
  /** §5.4.2.1: send `<starttls/>`. */
  | { readonly kind: 'starttls' }
  /** §5.3.1: the server requires TLS but our policy is 'never': we cannot negotiate it. */
  | { readonly kind: 'tls-refused' }
  /** Our policy requires TLS and the server does not offer STARTTLS on an unprotected stream. */
  | { readonly kind: 'tls-unavailable' }
  /** §6.4.2: authenticate with this mechanism. */
  | { readonly kind: 'sasl'; readonly mechanism: MechanismName }
  /** §6.3.1 SASL is mandatory-to-negotiate, and none of the offered mechanisms is acceptable. */
  | { readonly kind: 'no-mechanism' }
  /** §7.6.1: bind a resource. */
  | { readonly kind: 'bind' }
  /** §7.3.1: after SASL, binding is mandatory-to-negotiate, but it is not offered. */
  | { readonly kind: 'no-bind' };

/**
 * The order is the §4.3 layering: TLS first (§5.3.1), then SASL (§6.3.1), then binding
 * (§7.3.1). STARTTLS is used whenever it is offered and policy is not 'never' (§5.3.1 leaves
 * a voluntary STARTTLS to the client; with policy 'optional' we take it: TLS protects the
 * credentials). After authentication only `<bind/>` matters; anything else the server lists
 * then is voluntary and ignored (§4.3.5).
 */
export function decideFeatures(
  offered: OfferedFeatures,
  input: Pick<InitiatingEntityInput, 'tls' | 'mechanisms' | 'allowPlainWithoutTls'>,
  secured: boolean,
  authenticated: boolean,
): FeatureDecision {
  if (authenticated) return offered.bind ? { kind: 'bind' } : { kind: 'no-bind' };
  if (!secured && offered.starttls) {
    if (input.tls !== 'never') return { kind: 'starttls' };
    if (offered.starttlsRequired) return { kind: 'tls-refused' };
  }
  if (!secured && input.tls === 'required') return { kind: 'tls-unavailable' };
  const mechanism = chooseMechanism(offered.mechanisms, input, secured);
  return mechanism !== undefined ? { kind: 'sasl', mechanism } : { kind: 'no-mechanism' };
}
