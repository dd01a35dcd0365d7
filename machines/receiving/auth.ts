/**
 * SASL negotiation, receiving-entity side (§6.4, §6.5): which `<failure/>` answers an
 * `<auth/>`, and the glue between the stream machine and the mechanisms in ../sasl.
 * The mechanisms themselves (PLAIN, SCRAM) live in ../sasl; nothing here touches a password.
 */
import { saslFailureElement, type SaslFailureCondition } from '../conditions.js';
import { bareJid, parseJid, prepareLocalpart } from '../jid.js';
import { NS } from '../ns.js';
import type { CredentialsEvent, MechanismName, ReceivingEntityInput, StreamHeader } from '../protocol.js';
import { IMPLEMENTED_MECHANISMS, type SaslContext, type SaslState, type ServerStep } from '../sasl/api.js';
import { decodeSaslData, encodeSaslData, serverResponse, serverStart, serverWithCredentials } from '../sasl/index.js';
import { attr, el, text, type XmlElement } from '../xml.js';
import type { PendingSaslStep } from './types.js';

function failure(condition: SaslFailureCondition, text?: string): PendingSaslStep {
  return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
}

/** A ServerStep made JSON-safe for the machine context (bytes as base64). */
export function toPending(step: ServerStep): PendingSaslStep {
  switch (step.kind) {
    case 'lookup': {
      // §6.3.7: the simple user name is the account's localpart; one that cannot be a
      // localpart (RFC 7622 §3.3) cannot name an account: not-authorized, like a missing one (§6.5.10).
      const username = prepareLocalpart(step.username);
      if (username === undefined) return failure('not-authorized');
      return { kind: 'lookup', username, state: step.state, ...(step.authzid ? { authzid: step.authzid } : {}) };
    }
    case 'challenge':
      return { kind: 'challenge', data: step.data.byteLength === 0 ? '' : encodeSaslData(step.data), state: step.state };
    case 'success':
      return {
        kind: 'success',
        username: step.username,
        ...(step.authzid ? { authzid: step.authzid } : {}),
        ...(step.additionalData !== undefined ? { additionalData: encodeSaslData(step.additionalData) } : {}),
      };
    case 'failure':
      return failure(step.condition, step.text);
  }
}

/**
 * §6.4.2: evaluate an `<auth/>`. The checks run in this order, each answering with the
 * §6.5 condition that defines it:
 * 1. no 'mechanism' attribute, or a name this library does not implement → invalid-mechanism (§6.5.7);
 * 2. implemented but excluded by local policy → mechanism-too-weak (§6.5.9);
 * 3. the stream is not encrypted and either TLS is required or the mechanism is PLAIN without
 *    allowPlainWithoutTls → encryption-required (§6.5.4). With TLS required no mechanism was
 *    offered yet (§6.3.4), so every `<auth/>` gets this answer, which tells the client what to
 *    do next (a stream error would not);
 * 4. the initial response is not strict base 64 → incorrect-encoding (§6.5.5). No text means
 *    no initial response; '=' means an empty one (§6.4.2);
 * 5. otherwise the mechanism decides (malformed-request, not-authorized, ... or a lookup).
 */
export function authStep(auth: XmlElement, input: ReceivingEntityInput, secured: boolean, ctx: SaslContext): PendingSaslStep {
  const name = attr(auth, 'mechanism');
  const mechanism = IMPLEMENTED_MECHANISMS.find((m) => m === name);
  if (mechanism === undefined) return failure('invalid-mechanism');
  if (!input.mechanisms.includes(mechanism)) return failure('mechanism-too-weak');
  if (!secured && (input.tls === 'required' || (mechanism === 'PLAIN' && !input.allowPlainWithoutTls))) {
    return failure('encryption-required');
  }
  const data = text(auth);
  const initialResponse = data === '' ? undefined : decodeSaslData(data);
  if (data !== '' && initialResponse === undefined) return failure('incorrect-encoding');
  return toPending(serverStart(mechanism as MechanismName, initialResponse, ctx));
}

/** The account store answered (§6.3.7); unavailable → temporary-auth-failure (§6.5.11). */
export function credentialsStep(state: SaslState, event: CredentialsEvent, ctx: SaslContext): PendingSaslStep {
  if (event.unavailable) return failure('temporary-auth-failure');
  return toPending(serverWithCredentials(state, event.credentials, ctx));
}

/** §6.4.3: a `<response/>`; bad base 64 → incorrect-encoding (§6.5.5). */
export function responseStep(state: SaslState, response: XmlElement, ctx: SaslContext): PendingSaslStep {
  const data = decodeSaslData(text(response));
  if (data === undefined) return failure('incorrect-encoding');
  return toPending(serverResponse(state, data, ctx));
}

/**
 * The checks between a mechanism's success and our `<success/>` (§6.4.6); undefined when
 * none fails. They run only after the proof checked out, so a party without the password
 * learns nothing about the account:
 * - authzid (§6.3.8): in client-to-server streams it MUST be a bare JID, and the only identity
 *   an account may act as here is itself, username@domain → else invalid-authzid (§6.5.6);
 * (account-disabled §6.5.2 and credentials-expired §6.5.3 come from the mechanism, which
 * reports them only after the proof checked out.)
 * - §6.4.6 (SHOULD): a 'from' on a TLS-protected initial header that names another account →
 *   not-authorized (§6.5.10): the connection attempt is not accepted as that identity.
 */
export function successCheck(
  step: Extract<PendingSaslStep, { kind: 'success' }>,
  domain: string,
  peer: StreamHeader | undefined,
  secured: boolean,
): PendingSaslStep | undefined {
  const username = prepareLocalpart(step.username);
  if (username === undefined) return failure('not-authorized');
  const identity = `${username}@${parseJid(domain)?.domain ?? domain}`;
  if (step.authzid !== undefined && step.authzid !== '') {
    const authz = parseJid(step.authzid);
    if (authz === undefined || authz.local === undefined || authz.resource !== undefined || bareJid(step.authzid) !== identity) {
      return failure('invalid-authzid');
    }
  }
  if (secured && peer?.from !== undefined) {
    const claimed = parseJid(peer.from);
    if (claimed?.local !== undefined && bareJid(peer.from) !== identity) {
      return failure('not-authorized', "authenticated identity does not match the stream's 'from'");
    }
  }
  return undefined;
}

/** The bare JID SASL authorized (§4.3.6): the authzid when given (checked equal above), else username@domain. */
export function authorizedBareJid(username: string, domain: string): string {
  return `${username}@${parseJid(domain)?.domain ?? domain}`;
}

export function challengeElement(data: string): XmlElement {
  return el('challenge', NS.SASL, {}, data === '' ? undefined : data);
}

/** §6.4.6: additional data with success as base 64, '=' when present but empty. */
export function successElement(additionalData: string | undefined): XmlElement {
  return el('success', NS.SASL, {}, additionalData);
}

export { saslFailureElement };
