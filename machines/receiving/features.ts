/**
 * Stream features per negotiation stage (§4.3.2, §4.3.4, §5.4.1, §6.4.1, §7.4).
 */
import { NS } from '../ns.js';
import type { MechanismName, ReceivingEntityInput } from '../protocol.js';
import { IMPLEMENTED_MECHANISMS } from '../sasl/api.js';
import { el, type XmlElement } from '../xml.js';

/** The negotiation stage a response header opens; decides the features sent with it. */
export type Stage = 'tls-required' | 'sasl' | 'bind';

/**
 * §5.3.1: with TLS required and not yet on, the stage is TLS alone; otherwise SASL until
 * it succeeds (§6.3.1), then resource binding (§7.3.1).
 */
export function stageOf(input: Pick<ReceivingEntityInput, 'tls'>, secured: boolean, authenticated: boolean): Stage {
  if (!secured && input.tls === 'required') return 'tls-required';
  return authenticated ? 'bind' : 'sasl';
}

/** STARTTLS is on offer in this stage (§5.4.1): TLS not yet on and we have a certificate. */
export function tlsOffered(input: Pick<ReceivingEntityInput, 'tls'>, secured: boolean, authenticated: boolean): boolean {
  return !secured && !authenticated && input.tls !== 'none';
}

/**
 * §6.3.4: the mechanisms offered on this stream, in our preference order (§6.3.3).
 * Only implemented ones, only those policy lists, and PLAIN (cleartext password) only on
 * a secured stream unless policy explicitly allows it (§13.9.4).
 */
export function offeredMechanisms(
  input: Pick<ReceivingEntityInput, 'mechanisms' | 'allowPlainWithoutTls'>,
  secured: boolean,
): MechanismName[] {
  return input.mechanisms.filter(
    (m, i) =>
      IMPLEMENTED_MECHANISMS.includes(m) &&
      input.mechanisms.indexOf(m) === i &&
      (m !== 'PLAIN' || secured || input.allowPlainWithoutTls),
  );
}

/**
 * The `<features/>` element sent after a response header (§4.3.2: MUST, since we only
 * accept version >= 1.0; §4.3.4: again after every restart).
 *
 * - 'tls-required': only `<starttls><required/></starttls>`. §5.3.1 says a server that
 *   requires TLS SHOULD NOT advertise anything else before it, and §6.3.4 forbids
 *   advertising mechanisms that need TLS before TLS, so no `<mechanisms/>` here.
 * - 'sasl': `<mechanisms/>` (§6.4.1), preceded by a voluntary `<starttls/>` when TLS is
 *   optional and not on yet (§5.4.1). After TLS the STARTTLS feature MUST NOT appear (§5.4.3.3 rule 5).
 * - 'bind': `<bind/>` (§7.4), the last mandatory feature; binding is never followed by
 *   a restart (§7.3.2), so an empty `<features/>` (§4.3.5) is never needed. After it, the
 *   host's informational features (`input.boundFeatures`, e.g. RFC 6121 §2.6.1 `<ver/>`),
 *   which a client that does not know them ignores.
 */
export function featuresElement(input: ReceivingEntityInput, secured: boolean, authenticated: boolean): XmlElement {
  const stage = stageOf(input, secured, authenticated);
  if (stage === 'tls-required') {
    return el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS)));
  }
  if (stage === 'bind') return el('features', NS.STREAMS, {}, el('bind', NS.BIND), ...(input.boundFeatures ?? []));
  return el(
    'features',
    NS.STREAMS,
    {},
    tlsOffered(input, secured, authenticated) && el('starttls', NS.TLS),
    el('mechanisms', NS.SASL, {}, ...offeredMechanisms(input, secured).map((m) => el('mechanism', NS.SASL, {}, m))),
  );
}
