/**
 * The server's alphabet for model-based testing of a client: what our scripted server does
 * to a client over one TCP connection, each action with
 *   - the bytes it writes (the same on the wire and in the model),
 *   - the initiating-entity events the model gets for it (RFC 6120 §4-§8),
 *   - the deviations a faulty server shows: no STARTTLS (§5.3.1), `<failure/>` after
 *     `<starttls/>` (§5.4.2.2), a certificate the client must not trust (§5.4.3.2, §13.7.2),
 *     a wrong SCRAM server signature (RFC 5802 §5, RFC 6120 §6.4.6), stream errors
 *     (§4.9.3.19 see-other-host, §4.9.3.20 system-shutdown), malformed XML (§4.9.3.13),
 *     headers to refuse (§4.7.5, §4.9.3.10, §4.9.3.25), silence (the client's timers).
 *
 * SCRAM needs the client's own nonce, so an action is concretized per side: the real
 * server answers the real client's `<auth/>`, the model's server the model's. Both keep a
 * `ServerState`, fed with what their client wrote (`observeClientElement`).
 */
import { NS } from '../../machines/ns.js';
import type { MechanismName, StreamHeader } from '../../machines/protocol.js';
import { decodeSaslData, encodeSaslData, serverResponse, serverStart, serverWithCredentials, type SaslState, type StoredCredentials } from '../../machines/sasl/index.js';
import { attr, child, el, text, type XmlElement } from '../../machines/xml.js';

/** The account the client under test logs in with. */
export interface ClientAccount {
  readonly domain: string;
  readonly user: string;
  readonly password: string;
}

/** What the server remembers between steps; JSON data. */
export interface ServerState {
  /** base64 of the client's last SASL message not yet answered (`<auth/>` data or `<response/>`). */
  readonly saslIn?: string;
  /** The mechanism of the client's `<auth/>`. */
  readonly mechanism?: MechanismName;
  /** The server side of the SCRAM exchange after our challenge. */
  readonly sasl?: SaslState;
  /** The 'id' of the client's bind request not yet answered. */
  readonly bindId?: string;
  /** The 'id' of the client's XEP-0199 ping not yet answered. */
  readonly pingId?: string;
  /** Our `<starttls/>` was answered with `<proceed/>`: the next bytes of the client are its ClientHello. */
  readonly tlsStarting?: boolean;
}

export type StreamErrorSent = 'see-other-host' | 'system-shutdown';

export type ServerAction =
  | { readonly type: 'header' } // §4.7 response header (id, from, version 1.0)
  | { readonly type: 'headerBad'; readonly fault: 'no-version' | 'bad-namespace' } // §4.7.5 / §4.9.3.25, §4.9.3.10
  | { readonly type: 'featuresStarttls' } // §5.4.1 <starttls><required/></starttls>
  | { readonly type: 'featuresSasl'; readonly mechanism: 'SCRAM-SHA-1' | 'PLAIN' } // §6.4.1 (without STARTTLS on a clear stream: §5.3.1)
  | { readonly type: 'featuresBind' } // §7.4
  | { readonly type: 'featuresEmpty' } // §4.3.2 no feature (after SASL: no bind, §7.3.1)
  | { readonly type: 'proceed' } // §5.4.2.3
  | { readonly type: 'tlsFailure' } // §5.4.2.2 <failure/> and our closing tag
  | { readonly type: 'tlsHandshake' } // §5.4.3.3 with a certificate the client trusts
  | { readonly type: 'tlsBadCertificate' } // §5.4.3.2, §13.7.2: a certificate the client must refuse
  | { readonly type: 'challenge' } // §6.4.3 the SCRAM server-first message
  | { readonly type: 'success'; readonly signature: 'right' | 'wrong' } // §6.4.6, RFC 5802 §5 (v=)
  | { readonly type: 'saslFailure' } // §6.5.10 not-authorized
  | { readonly type: 'bindResult' } // §7.6.1
  | { readonly type: 'bindError' } // §7.6.2.2 not-allowed
  | { readonly type: 'ping' } // XEP-0199 §4.2 server-to-client ping
  | { readonly type: 'pingReply' } // XEP-0199 §4.3 the answer to the client's ping
  | { readonly type: 'message' } // §8 a stanza for the client
  | { readonly type: 'unknownElement' } // §4.9.3.24
  | { readonly type: 'keepalive' } // §4.6.1 whitespace
  | { readonly type: 'malformed' } // §4.9.3.13 not-well-formed
  | { readonly type: 'streamError'; readonly condition: StreamErrorSent } // §4.9.3.19, §4.9.3.20, then our closing tag
  | { readonly type: 'close' } // §4.4 our closing tag
  | { readonly type: 'closeSocket' } // §4.6.1 TCP closed under the client
  | { readonly type: 'wait'; readonly delay: string; readonly eventType: string }; // silence until a client timer fires

/** One piece of what the server does for an action. */
export type ServerConcrete =
  | { readonly kind: 'header'; readonly header: StreamHeader }
  | { readonly kind: 'element'; readonly element: XmlElement }
  | { readonly kind: 'raw'; readonly text: string }
  | { readonly kind: 'malformed'; readonly text: string }
  | { readonly kind: 'tls'; readonly certificate: 'trusted' | 'untrusted' }
  | { readonly kind: 'end' }
  | { readonly kind: 'wait'; readonly delay: string };

export const CLOSE_TAG = '</stream:stream>';
export const MALFORMED_XML = '<message><body>no closing tag</message>';
export const SEE_OTHER_HOST = 'other.invalid:5222';
export const SERVER_STREAM_ID = 'mbt-stream';

export interface ConcretizeContext {
  readonly account: ClientAccount;
  readonly random: (n: number) => Uint8Array;
  readonly credentials: () => StoredCredentials;
}

/** What the server writes for an action, and its state afterwards. */
export function concretize(action: ServerAction, server: ServerState, ctx: ConcretizeContext): { parts: ServerConcrete[]; server: ServerState } {
  const { domain } = ctx.account;
  const one = (element: XmlElement, next: ServerState = server): { parts: ServerConcrete[]; server: ServerState } => ({ parts: [{ kind: 'element', element }], server: next });
  const features = (...children: XmlElement[]): XmlElement => el('features', NS.STREAMS, {}, ...children);
  switch (action.type) {
    case 'header':
      return { parts: [{ kind: 'header', header: { from: domain, id: SERVER_STREAM_ID, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT } }], server };
    case 'headerBad':
      return {
        parts: [
          {
            kind: 'header',
            header:
              action.fault === 'no-version'
                ? { from: domain, id: SERVER_STREAM_ID, lang: 'en', contentNamespace: NS.CLIENT }
                : { from: domain, id: SERVER_STREAM_ID, version: '1.0', lang: 'en', contentNamespace: 'urn:example:not-jabber-client' },
          },
        ],
        server,
      };
    case 'featuresStarttls':
      return one(features(el('starttls', NS.TLS, {}, el('required', NS.TLS))));
    case 'featuresSasl':
      return one(features(el('mechanisms', NS.SASL, {}, el('mechanism', NS.SASL, {}, action.mechanism))));
    case 'featuresBind':
      return one(features(el('bind', NS.BIND)));
    case 'featuresEmpty':
      return one(features());
    case 'proceed':
      return one(el('proceed', NS.TLS), { ...server, tlsStarting: true });
    case 'tlsFailure':
      return { parts: [{ kind: 'element', element: el('failure', NS.TLS) }, { kind: 'raw', text: CLOSE_TAG }], server };
    case 'tlsHandshake':
      return { parts: [{ kind: 'tls', certificate: 'trusted' }], server: { ...server, tlsStarting: false } };
    case 'tlsBadCertificate':
      return { parts: [{ kind: 'tls', certificate: 'untrusted' }], server: { ...server, tlsStarting: false } };
    case 'challenge': {
      const start = serverStart(server.mechanism ?? 'SCRAM-SHA-1', server.saslIn !== undefined ? decodeSaslData(server.saslIn) : undefined, { random: ctx.random });
      const step = start.kind === 'lookup' ? serverWithCredentials(start.state, ctx.credentials(), { random: ctx.random }) : start;
      if (step.kind !== 'challenge') return one(el('challenge', NS.SASL, {}, '=')); // not a SCRAM first message: an empty challenge
      const { saslIn: _in, ...rest } = server;
      return one(el('challenge', NS.SASL, {}, encodeSaslData(step.data)), { ...rest, sasl: step.state });
    }
    case 'success': {
      let data: Uint8Array | undefined;
      if (server.sasl !== undefined && server.saslIn !== undefined) {
        const step = serverResponse(server.sasl, decodeSaslData(server.saslIn) ?? new Uint8Array(0), { random: ctx.random });
        if (step.kind === 'success') data = step.additionalData;
      }
      if (data !== undefined && action.signature === 'wrong') data = flipSignature(data);
      const { saslIn: _in, sasl: _s, ...rest } = server;
      return one(el('success', NS.SASL, {}, ...(data !== undefined ? [encodeSaslData(data)] : [])), rest);
    }
    case 'saslFailure': {
      const { saslIn: _in, sasl: _s, ...rest } = server;
      return one(el('failure', NS.SASL, {}, el('not-authorized', NS.SASL)), rest);
    }
    case 'bindResult': {
      const { bindId, ...rest } = server;
      return one(el('iq', NS.CLIENT, { type: 'result', id: bindId ?? 'none' }, el('bind', NS.BIND, {}, el('jid', NS.BIND, {}, `${ctx.account.user}@${domain}/mbt-generated`))), rest);
    }
    case 'bindError': {
      const { bindId, ...rest } = server;
      return one(el('iq', NS.CLIENT, { type: 'error', id: bindId ?? 'none' }, el('error', NS.CLIENT, { type: 'cancel' }, el('not-allowed', NS.STANZAS))), rest);
    }
    case 'ping':
      return one(el('iq', NS.CLIENT, { type: 'get', id: 'mbt-ping', from: domain }, el('ping', NS.PING)));
    case 'pingReply': {
      const { pingId, ...rest } = server;
      return one(el('iq', NS.CLIENT, { type: 'result', id: pingId ?? 'none', from: domain }), rest);
    }
    case 'message':
      return one(el('message', NS.CLIENT, { from: `mbt-peer@${domain}/x`, type: 'chat', id: 'mbt-m1' }, el('body', NS.CLIENT, {}, 'hello')));
    case 'unknownElement':
      return one(el('unknown', 'urn:example:mbt'));
    case 'malformed':
      return { parts: [{ kind: 'malformed', text: MALFORMED_XML }], server };
    case 'keepalive':
      return { parts: [{ kind: 'raw', text: ' ' }], server };
    case 'streamError': {
      const condition = action.condition === 'see-other-host' ? el(action.condition, NS.STREAM_ERRORS, {}, SEE_OTHER_HOST) : el(action.condition, NS.STREAM_ERRORS);
      return { parts: [{ kind: 'element', element: el('error', NS.STREAMS, {}, condition) }, { kind: 'raw', text: CLOSE_TAG }], server };
    }
    case 'close':
      return { parts: [{ kind: 'raw', text: CLOSE_TAG }], server };
    case 'closeSocket':
      return { parts: [{ kind: 'end' }], server };
    case 'wait':
      return { parts: [{ kind: 'wait', delay: action.delay }], server };
  }
}

/** v= with one byte of the server signature flipped (RFC 5802 §5: the client must refuse it). */
function flipSignature(data: Uint8Array): Uint8Array {
  const good = new TextDecoder().decode(data);
  if (!good.startsWith('v=')) return data;
  const sig = Buffer.from(good.slice(2), 'base64');
  sig[0] = sig[0]! ^ 0xff;
  return new TextEncoder().encode(`v=${sig.toString('base64')}`);
}

/** What the server learns from an element the client wrote: the SASL data to answer, a bind or ping id. */
export function observeClientElement(server: ServerState, e: XmlElement): ServerState {
  if (e.xmlns === NS.SASL && e.name === 'auth') {
    const { sasl: _s, ...rest } = server;
    const data = text(e).trim();
    return { ...rest, mechanism: (attr(e, 'mechanism') ?? 'SCRAM-SHA-1') as MechanismName, ...(data !== '' && data !== '=' ? { saslIn: data } : {}) };
  }
  if (e.xmlns === NS.SASL && e.name === 'response') return { ...server, saslIn: text(e).trim() };
  if (e.name === 'iq' && attr(e, 'type') === 'set' && child(e, 'bind', NS.BIND) !== undefined) return { ...server, bindId: attr(e, 'id') ?? '' };
  if (e.name === 'iq' && attr(e, 'type') === 'get' && child(e, 'ping', NS.PING) !== undefined) return { ...server, pingId: attr(e, 'id') ?? '' };
  return server;
}

/** 'success(wrong signature)', 'streamError(see-other-host)', 'wait(idleTimeout)' */
export function describeServerAction(a: ServerAction): string {
  switch (a.type) {
    case 'headerBad':
      return `headerBad(${a.fault})`;
    case 'featuresSasl':
      return `featuresSasl(${a.mechanism})`;
    case 'success':
      return a.signature === 'right' ? 'success' : 'success(wrong signature)';
    case 'streamError':
      return `streamError(${a.condition})`;
    case 'wait':
      return `wait(${a.eventType.replace(/^xstate\.after\.([A-Za-z]+)\..*$/, '$1')})`;
    default:
      return a.type;
  }
}
