/**
 * SASL negotiation, initiating-entity side (§6.4, §6.5): the glue between the stream machine
 * and the client functions of ../sasl, and the elements the client writes.
 */
import { NS } from '../ns.js';
import type { MechanismName } from '../protocol.js';
import type { SaslContext, SaslState } from '../sasl/api.js';
import { clientChallenge, clientStart, clientSuccess, decodeSaslData, encodeSaslData } from '../sasl/index.js';
import { child, childElements, el, text, type XmlElement } from '../xml.js';
import type { ClientIdentity, PendingClientStep } from './types.js';

/**
 * §6.4.2: start a handshake with `mechanism`. The initial response is sent inside `<auth/>`
 * unless `initialResponse` is false; then the server answers with an empty challenge and the
 * first message goes in a `<response/>` (clientChallenge handles that empty challenge).
 * The simple user name is the JID's localpart (§6.3.7); an authzid is passed through (§6.3.8).
 */
export function startStep(
  mechanism: MechanismName,
  identity: ClientIdentity,
  creds: { password: string; authzid?: string },
  initialResponse: boolean,
  ctx: SaslContext,
): PendingClientStep {
  const step = clientStart(
    mechanism,
    { username: identity.username, password: creds.password, ...(creds.authzid !== undefined ? { authzid: creds.authzid } : {}) },
    ctx,
  );
  if (step.kind === 'error') return { kind: 'unusable', reason: step.reason };
  // §6.4.2: a zero-length initial response is '=' (encodeSaslData does that).
  return initialResponse
    ? { kind: 'auth', mechanism, data: encodeSaslData(step.data), state: step.state }
    : { kind: 'auth', mechanism, state: step.state };
}

/**
 * §6.4.3: a `<challenge/>`. Data that is not base 64, or that the mechanism cannot accept
 * (a SCRAM nonce that does not extend ours, too few iterations, a server error e=...), makes
 * us abort the handshake (§6.4.4): we cannot produce a valid response.
 */
export function challengeStep(state: SaslState | undefined, challenge: XmlElement, ctx: SaslContext): PendingClientStep {
  if (state === undefined) return { kind: 'abort', reason: 'challenge with no handshake in progress' };
  const data = decodeSaslData(text(challenge).trim());
  if (data === undefined) return { kind: 'abort', reason: 'challenge is not base 64 (RFC 6120 §6.4.3)' };
  const step = clientChallenge(state, data, ctx);
  if (step.kind === 'error') return { kind: 'abort', reason: step.reason };
  return { kind: 'respond', data: encodeSaslData(step.data), state: step.state };
}

/**
 * §6.4.6: `<success/>`, possibly with additional data. For SCRAM the data must carry the
 * server signature (RFC 5802 §3 'v='): a server that cannot produce it does not know the
 * stored keys, so the success is not believed.
 */
export function successStep(state: SaslState | undefined, success: XmlElement): PendingClientStep {
  if (state === undefined) return { kind: 'unverified', reason: 'success with no handshake in progress' };
  const raw = text(success).trim();
  const data = raw === '' ? undefined : decodeSaslData(raw);
  if (raw !== '' && data === undefined) return { kind: 'unverified', reason: 'success data is not base 64 (RFC 6120 §6.4.6)' };
  const verdict = clientSuccess(state, data);
  return verdict.ok ? { kind: 'verified' } : { kind: 'unverified', reason: verdict.reason };
}

/** `<auth mechanism=...>[initial response]</auth>` (§6.4.2). */
export function authElement(mechanism: MechanismName, data: string | undefined): XmlElement {
  return el('auth', NS.SASL, { mechanism }, data);
}

/** `<response>data</response>` (§6.4.3); '=' for an empty response. */
export function responseElement(data: string): XmlElement {
  return el('response', NS.SASL, {}, data);
}

/** `<abort/>` (§6.4.4). */
export function abortElement(): XmlElement {
  return el('abort', NS.SASL);
}

/** The §6.5 condition of a SASL `<failure/>` (one of SASL_FAILURE_CONDITIONS, or whatever the server sent; 'undefined' when none). */
export function saslFailureCondition(failure: XmlElement): { condition: string; text?: string } {
  const cond = childElements(failure).find((c) => c.xmlns === NS.SASL && c.name !== 'text');
  const t = child(failure, 'text', NS.SASL);
  return {
    condition: cond?.name ?? 'undefined',
    ...(t !== undefined ? { text: text(t) } : {}),
  };
}

/** The authzid to report in `authenticated` (§6.3.8), when one was used. */
export function authzidOf(authzid: string | undefined): string | undefined {
  return authzid !== undefined && authzid !== '' ? authzid : undefined;
}
