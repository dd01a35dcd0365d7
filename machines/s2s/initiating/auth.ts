/**
 * SASL EXTERNAL on a server-to-server stream, initiating server side: RFC 6120 §6.4 with
 * XEP-0178 §3 steps 10-11. The certificate did the work in the TLS handshake; the exchange
 * only names the authorization identity.
 */
import { NS } from '../../ns.js';
import { encodeSaslData, utf8 } from '../../sasl/encoding.js';
import { el, type XmlElement } from '../../xml.js';

export { saslFailureCondition } from '../../initiating/auth.js';

export const EXTERNAL = 'EXTERNAL';

/**
 * XEP-0178 §3 step 10: `<auth mechanism='EXTERNAL'>` with an initial response (§6.4.2). The
 * authzid is our domain, the 'from' of our header, when policy says so (the
 * interoperability note's SHOULD), else empty: '=' (§6.4.2 zero-length initial response).
 */
export function externalAuth(domain: string, withAuthzid: boolean): XmlElement {
  return el('auth', NS.SASL, { mechanism: EXTERNAL }, encodeSaslData(withAuthzid ? utf8(domain) : new Uint8Array()));
}

/**
 * §6.4.3: a `<challenge/>` to EXTERNAL. We always send an initial response, so the receiving
 * server asks again only if it ignored it (RFC 4422 App. A: an empty challenge asks for the
 * authzid). Choice: answer with the same authzid rather than abort: it is all EXTERNAL has.
 */
export function externalResponse(domain: string, withAuthzid: boolean): XmlElement {
  return el('response', NS.SASL, {}, encodeSaslData(withAuthzid ? utf8(domain) : new Uint8Array()));
}
