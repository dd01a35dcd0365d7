/**
 * The client's alphabet for model-based testing: what a test client can do to a server over
 * one TCP connection, each action with
 *   - the element or bytes it writes (the same on the wire and in the model),
 *   - the receiving-entity events the model gets for it (RFC 6120 §4-§8),
 *   - when it makes sense (a client that is mid TLS handshake writes no XML).
 *
 * SCRAM needs the server's own challenge, so an action is concretized per side: the real
 * client answers the target's challenge, the model's client answers the model's. Both sides
 * keep a `ClientState` of their own.
 */
import type { StreamErrorCondition } from '../machines/conditions.js';
import { NS } from '../machines/ns.js';
import type { MechanismName, StreamHeader } from '../machines/protocol.js';
import { clientChallenge, clientStart, decodeSaslData, encodeSaslData, type SaslState } from '../machines/sasl/index.js';
import { el, type XmlElement } from '../machines/xml.js';
import { faultyHeader, LIMIT_CONDITION, MALFORMED_FAULTS, overLimitBytes, type HeaderFaultName, type LimitFaultName, type MalformedFaultName } from './faults.js';

/** The account the client logs in with and the server's domain. */
export interface Account {
  readonly domain: string;
  readonly user: string;
  readonly password: string;
  /** The resourcepart `bind(mbt)` asks for; distinct per connection so that paths run at once do not replace each other (§7.7.2.2). */
  readonly resource?: string;
}

/** What the client remembers between steps; JSON data. */
export interface ClientState {
  /** The client side of the SASL exchange in progress. */
  readonly sasl?: SaslState;
  /** base64 of the last `<challenge/>` not yet answered. */
  readonly challenge?: string;
  /** id of the server's XEP-0199 ping not yet answered. */
  readonly pingId?: string;
  /** authEmpty: the client-first message, sent in the `<response/>` to the empty challenge (§6.4.2). */
  readonly pendingFirst?: string;
}

export type DelayName = string;

export type ClientAction =
  | { readonly type: 'open' } // §4.2 initial stream header
  | { readonly type: 'openBad'; readonly fault: HeaderFaultName } // §4.9.1.2 a header to refuse (./faults.ts)
  | { readonly type: 'starttls' } // §5.4.2.1
  | { readonly type: 'tlsHandshake' } // §5.4.3.3 (client side of the handshake)
  | { readonly type: 'tlsGarbage' } // §5.4.3.2: plaintext where the ClientHello belongs
  | { readonly type: 'authPlain'; readonly password: 'right' | 'wrong' | 'unknown-user' } // RFC 4616, §6.4.2
  | { readonly type: 'authForeignAuthzid' } // §6.5.6 invalid-authzid: PLAIN, right password, another account's JID as authzid
  | { readonly type: 'authBadEncoding' } // §6.5.5 incorrect-encoding: an initial response that is not base 64
  | { readonly type: 'authScram'; readonly mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256' } // RFC 5802 client-first in <auth/>
  | { readonly type: 'authEmpty'; readonly mechanism: 'SCRAM-SHA-256' } // §6.4.2 no initial response: empty challenge
  | { readonly type: 'authUnknownMechanism' } // §6.5.7 invalid-mechanism
  | { readonly type: 'response'; readonly proof: 'right' | 'wrong' } // §6.4.3
  | { readonly type: 'responseOutOfTurn' } // §6.5.8 malformed-request
  | { readonly type: 'abort' } // §6.4.4
  | { readonly type: 'bind'; readonly resource?: string } // §7.6.1 / §7.7.1
  | { readonly type: 'bindBad' } // §7.7.2.1 bad-request
  | { readonly type: 'message' } // §8 a stanza
  | { readonly type: 'messageBadFrom' } // §4.9.3.9 invalid-from
  | { readonly type: 'pingReply' } // XEP-0199 §4.2
  | { readonly type: 'unknownElement' } // §4.9.3.24 unsupported-stanza-type
  | { readonly type: 'streamError' } // §4.9.1.1 the client ends the stream with an error
  | { readonly type: 'keepalive' } // §4.6.1 whitespace
  | { readonly type: 'close' } // §4.4 closing tag
  | { readonly type: 'malformed'; readonly fault: MalformedFaultName } // §11, §4.9.3 bytes to refuse (./faults.ts)
  | { readonly type: 'overLimit'; readonly fault: LimitFaultName; readonly limit: number } // §13.12: one unit over the target's limit
  | { readonly type: 'closeSocket' } // TCP FIN from the client
  | { readonly type: 'wait'; readonly delay: DelayName; readonly eventType: string }; // stay silent until the server's timer fires

/** The resourcepart the tests ask for (§7.7), or its prefix when paths run at once. */
export const RESOURCE = 'mbt';

/** How one side carries out an action. */
export type Concrete =
  | { readonly kind: 'element'; readonly element: XmlElement }
  | { readonly kind: 'header'; readonly header: StreamHeader }
  | { readonly kind: 'raw'; readonly text: string }
  /** Bytes the server's XML layer must refuse with `condition` (./faults.ts). */
  | { readonly kind: 'malformed'; readonly bytes: Uint8Array; readonly condition: StreamErrorCondition }
  | { readonly kind: 'tls' }
  | { readonly kind: 'tlsGarbage' }
  | { readonly kind: 'end' }
  | { readonly kind: 'wait'; readonly delay: DelayName };

export interface Concretized {
  readonly concrete: Concrete;
  readonly client: ClientState;
}

export interface ConcretizeContext {
  readonly account: Account;
  readonly random: (n: number) => Uint8Array;
  readonly saltedPasswordCache?: Map<string, Uint8Array>;
}

export function header(account: Account, to = account.domain): StreamHeader {
  return { to, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT };
}

/** Plaintext written where the TLS ClientHello should be. */
export const TLS_GARBAGE = 'this is not a TLS ClientHello\r\n\r\n';

function b64(s: string): string {
  return encodeSaslData(new TextEncoder().encode(s));
}

export function concretize(action: ClientAction, client: ClientState, ctx: ConcretizeContext): Concretized {
  const { account } = ctx;
  const same = (concrete: Concrete): Concretized => ({ concrete, client });
  const elem = (element: XmlElement, next: ClientState = client): Concretized => ({ concrete: { kind: 'element', element }, client: next });
  switch (action.type) {
    case 'open':
      return same({ kind: 'header', header: header(account) });
    case 'openBad':
      return same({ kind: 'header', header: faultyHeader(action.fault, header(account)) });
    case 'starttls':
      return elem(el('starttls', NS.TLS));
    case 'tlsHandshake':
      return same({ kind: 'tls' });
    case 'tlsGarbage':
      return same({ kind: 'tlsGarbage' });
    case 'authPlain': {
      const user = action.password === 'unknown-user' ? `nobody-${account.user}` : account.user;
      const password = action.password === 'wrong' ? `${account.password}-wrong` : account.password;
      return elem(el('auth', NS.SASL, { mechanism: 'PLAIN' }, b64(`\0${user}\0${password}`)), {});
    }
    case 'authForeignAuthzid':
      return elem(el('auth', NS.SASL, { mechanism: 'PLAIN' }, b64(`someone-else@${account.domain}\0${account.user}\0${account.password}`)), {});
    case 'authBadEncoding':
      return elem(el('auth', NS.SASL, { mechanism: 'PLAIN' }, 'not*base64!'), {});
    case 'authScram':
    case 'authEmpty': {
      const step = clientStart(action.mechanism, { username: account.user, password: account.password }, saslCtx(ctx));
      if (step.kind !== 'respond') throw new Error(`SCRAM client: ${step.reason}`);
      if (action.type === 'authEmpty') {
        // §6.4.2: no initial response; the client-first message goes in the <response/> to the empty challenge.
        return elem(el('auth', NS.SASL, { mechanism: action.mechanism }), { sasl: step.state, pendingFirst: encodeSaslData(step.data) });
      }
      return elem(el('auth', NS.SASL, { mechanism: action.mechanism }, encodeSaslData(step.data)), { sasl: step.state });
    }
    case 'authUnknownMechanism':
      return elem(el('auth', NS.SASL, { mechanism: 'X-MBT-UNKNOWN' }, '='), {});
    case 'response': {
      const pendingFirst = client.pendingFirst;
      if (pendingFirst !== undefined && client.sasl !== undefined) {
        // The answer to the empty challenge of authEmpty: the client-first message.
        return elem(el('response', NS.SASL, {}, pendingFirst), { sasl: client.sasl });
      }
      if (client.sasl === undefined || client.challenge === undefined) return elem(el('response', NS.SASL, {}, b64('c=biws,r=none,p=none')), {});
      const data = decodeSaslData(client.challenge) ?? new Uint8Array();
      const step = clientChallenge(client.sasl, data, saslCtx(ctx));
      if (step.kind !== 'respond') {
        // The server's challenge is unusable (a finding reported by the comparison); answer something.
        return elem(el('response', NS.SASL, {}, b64('c=biws,r=invalid,p=invalid')), {});
      }
      let text = encodeSaslData(step.data);
      if (action.proof === 'wrong') {
        const msg = new TextDecoder().decode(step.data).replace(/,p=([^,]*)$/, (_, p: string) => `,p=${flipBase64(p)}`);
        text = b64(msg);
      }
      return elem(el('response', NS.SASL, {}, text), { sasl: step.state });
    }
    case 'responseOutOfTurn':
      return elem(el('response', NS.SASL), client);
    case 'abort':
      return elem(el('abort', NS.SASL), {});
    case 'bind':
      return elem(
        el('iq', NS.CLIENT, { type: 'set', id: 'bind-1' }, el('bind', NS.BIND, {}, action.resource !== undefined && el('resource', NS.BIND, {}, account.resource ?? action.resource))),
      );
    case 'bindBad':
      // §8.2.3: an IQ 'get' with a bind payload is not a bind request.
      return elem(el('iq', NS.CLIENT, { type: 'get', id: 'bind-bad' }, el('bind', NS.BIND)));
    case 'message':
      // To our own full JID: whatever the router does with it concerns this connection only (paths run at once).
      return elem(el('message', NS.CLIENT, { to: `${account.user}@${account.domain}/${account.resource ?? RESOURCE}`, type: 'headline', id: 'msg-1' }, el('body', NS.CLIENT, {}, 'mbt')));
    case 'messageBadFrom':
      return elem(
        el('message', NS.CLIENT, { from: `someone-else@${account.domain}/x`, to: `${account.user}@${account.domain}`, type: 'headline', id: 'msg-2' }, el('body', NS.CLIENT, {}, 'mbt')),
      );
    case 'pingReply':
      return elem(el('iq', NS.CLIENT, { type: 'result', id: client.pingId ?? 'no-ping', to: account.domain }), { ...client, pingId: undefined });
    case 'unknownElement':
      return elem(el('mbt-unknown', 'urn:example:mbt'));
    case 'streamError':
      return elem(el('error', NS.STREAMS, {}, el('undefined-condition', NS.STREAM_ERRORS)));
    case 'keepalive':
      return same({ kind: 'raw', text: ' ' });
    case 'close':
      return same({ kind: 'raw', text: '</stream:stream>' });
    case 'malformed': {
      const fault = MALFORMED_FAULTS[action.fault];
      return same({ kind: 'malformed', bytes: fault.bytes, condition: fault.condition });
    }
    case 'overLimit':
      return same({ kind: 'malformed', bytes: overLimitBytes(action.fault, action.limit), condition: LIMIT_CONDITION.condition });
    case 'closeSocket':
      return same({ kind: 'end' });
    case 'wait':
      return same({ kind: 'wait', delay: action.delay });
  }
}

/** Learn from what the server wrote: challenges to answer, pings to reply to. */
export function observeServerElement(client: ClientState, e: XmlElement): ClientState {
  if (e.xmlns === NS.SASL && e.name === 'challenge') {
    const data = e.children.filter((c): c is string => typeof c === 'string').join('').trim();
    const pendingFirst = client.pendingFirst;
    // An empty challenge answers authEmpty: keep the client-first message for the response.
    if (pendingFirst !== undefined && (data === '' || data === '=')) return client;
    return { ...(client.sasl ? { sasl: client.sasl } : {}), challenge: data === '' ? '=' : data };
  }
  if (e.xmlns === NS.SASL && (e.name === 'success' || e.name === 'failure')) return {};
  if (e.name === 'iq' && e.xmlns === NS.CLIENT && e.attrs['type'] === 'get' && e.children.some((c) => typeof c !== 'string' && c.xmlns === NS.PING)) {
    const id = e.attrs['id'];
    return id !== undefined ? { ...client, pingId: id } : client;
  }
  return client;
}

function saslCtx(ctx: ConcretizeContext) {
  return { random: ctx.random, ...(ctx.saltedPasswordCache ? { saltedPasswordCache: ctx.saltedPasswordCache } : {}) };
}

/** A proof that is valid base64 of the right length but wrong (RFC 5802 §5.1 verification fails). */
function flipBase64(p: string): string {
  const c = p[0] === 'A' ? 'B' : 'A';
  return c + p.slice(1);
}

export function describeAction(a: ClientAction): string {
  switch (a.type) {
    case 'authPlain':
      return `authPlain(${a.password})`;
    case 'authScram':
    case 'authEmpty':
      return `${a.type}(${a.mechanism})`;
    case 'response':
      return `response(${a.proof} proof)`;
    case 'bind':
      return a.resource === undefined ? 'bind(generated)' : `bind(${a.resource})`;
    case 'wait':
      return `wait(${a.delay})`;
    case 'openBad':
    case 'malformed':
      return `${a.type}(${a.fault})`;
    case 'overLimit':
      return `overLimit(${a.fault} > ${a.limit})`;
    default:
      return a.type;
  }
}

export type { MechanismName };
