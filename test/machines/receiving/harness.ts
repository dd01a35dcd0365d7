/**
 * Test harness for the receiving entity: a deterministic random source, a SimulatedClock,
 * the emitted commands collected in order, and builders for the client's elements.
 */
import { createActor, SimulatedClock } from 'xstate';
import { NS } from '../../../machines/ns.js';
import type { Command, MechanismName, StreamHeader } from '../../../machines/protocol.js';
import { DEFAULT_SERVER_POLICY } from '../../../machines/policy.js';
import { receivingEntityMachine, type ReceivingEntityEvent, type ReceivingEntityMachineInput } from '../../../machines/receiving/index.js';
import {
  clientChallenge,
  clientStart,
  clientSuccess,
  decodeSaslData,
  deriveCredentials,
  encodeSaslData,
  type SaslState,
  type StoredCredentials,
} from '../../../machines/sasl/index.js';
import { child, el, text, type XmlElement } from '../../../machines/xml.js';
import { conditionIn, counterRandom, recordCommands, sent, TIMEOUTS, type Recorder } from '../recorder.js';

export { conditionIn, counterRandom, sent, streamErrorOf, types } from '../recorder.js';

export const DOMAIN = 'im.example.com';
export const USER = 'juliet';
export const PASSWORD = 'r0m30myr0m30';

export function makeInput(overrides: Partial<ReceivingEntityMachineInput> = {}): ReceivingEntityMachineInput {
  return {
    ...DEFAULT_SERVER_POLICY,
    domain: DOMAIN,
    random: counterRandom(),
    timeouts: TIMEOUTS,
    ...overrides,
  };
}

let cachedCredentials: StoredCredentials | undefined;
/** The stored SCRAM keys of juliet's account (PBKDF2 once per test file). */
export function credentials(flags: { disabled?: boolean; expired?: boolean } = {}): StoredCredentials {
  cachedCredentials ??= deriveCredentials(PASSWORD, { random: counterRandom(99), iterations: 4096 });
  return { ...cachedCredentials, ...flags };
}

/** The server machine alone, fed with hand-built client elements. */
export type Harness = Recorder<typeof receivingEntityMachine>;

export function startServer(overrides: Partial<ReceivingEntityMachineInput> = {}): Harness {
  const clock = new SimulatedClock();
  return recordCommands(createActor(receivingEntityMachine, { input: makeInput(overrides), clock }), clock);
}

// ---------------------------------------------------------------------------
// Client elements
// ---------------------------------------------------------------------------

export function header(overrides: Partial<StreamHeader> = {}): ReceivingEntityEvent {
  return {
    type: 'HEADER',
    header: { from: `${USER}@${DOMAIN}`, to: DOMAIN, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT, ...overrides },
  };
}
export const element = (e: XmlElement): ReceivingEntityEvent => ({ type: 'ELEMENT', element: e });
export const starttls = () => element(el('starttls', NS.TLS));
export const auth = (mechanism: string | undefined, data?: string) => element(el('auth', NS.SASL, { mechanism }, data));
export const response = (data?: string) => element(el('response', NS.SASL, {}, data));
export const abort = () => element(el('abort', NS.SASL));
export const bindIq = (id: string, resource?: string) =>
  element(el('iq', NS.CLIENT, { id, type: 'set' }, el('bind', NS.BIND, {}, resource !== undefined && el('resource', NS.BIND, {}, resource))));
export const message = (attrs: Record<string, string | undefined> = {}, body = 'hi') =>
  element(el('message', NS.CLIENT, { to: 'romeo@example.net', ...attrs }, el('body', NS.CLIENT, {}, body)));

export function b64(s: string): string {
  return encodeSaslData(new TextEncoder().encode(s));
}
export function plainData(username: string, password: string, authzid = ''): string {
  return b64(`${authzid}\0${username}\0${password}`);
}

// ---------------------------------------------------------------------------
// Command helpers
// ---------------------------------------------------------------------------

export function saslFailureOf(cmds: Command[]): string | undefined {
  const e = sent(cmds).find((x) => x.name === 'failure' && x.xmlns === NS.SASL);
  return conditionIn(e, NS.SASL);
}
export function iqErrorOf(cmds: Command[]): string | undefined {
  const iq = sent(cmds).find((x) => x.name === 'iq' && x.attrs.type === 'error');
  const error = iq && child(iq, 'error', NS.CLIENT);
  return conditionIn(error, NS.STANZAS);
}

// ---------------------------------------------------------------------------
// Scripted negotiation
// ---------------------------------------------------------------------------

/** Open the first stream and run STARTTLS to the restart (policy tls: 'required'). */
export function throughTls(h: Harness): void {
  h.send(header());
  h.send(starttls());
  h.send({ type: 'TLS_ESTABLISHED' });
  h.send(header());
}

/** PLAIN with an initial response, answering the credentials lookup. */
export function plainAuth(h: Harness, creds: StoredCredentials | null = credentials()): Command[] {
  h.take();
  h.send(auth('PLAIN', plainData(USER, PASSWORD)));
  h.send({ type: 'CREDENTIALS', username: USER, credentials: creds });
  return h.take();
}

/** A SCRAM exchange driven by the client side of machines/sasl; returns all commands of the exchange. */
export function scramAuth(h: Harness, mechanism: MechanismName, opts: { initialResponse?: boolean } = {}): Command[] {
  const ctx = { random: counterRandom(7) };
  h.take();
  const first = clientStart(mechanism, { username: USER, password: PASSWORD }, ctx);
  if (first.kind !== 'respond') throw new Error(first.reason);
  let state: SaslState = first.state;
  if (opts.initialResponse === false) {
    const challenge = sent(h.step(auth(mechanism)))[0];
    if (challenge?.name !== 'challenge') throw new Error('expected an empty challenge');
    h.send(response(encodeSaslData(first.data)));
  } else {
    h.send(auth(mechanism, encodeSaslData(first.data)));
  }
  h.send({ type: 'CREDENTIALS', username: USER, credentials: credentials() });
  const serverFirst = h.all[h.all.length - 1];
  if (serverFirst?.type !== 'send' || serverFirst.element.name !== 'challenge') throw new Error('expected server-first challenge');
  const next = clientChallenge(state, decodeSaslData(text(serverFirst.element))!, ctx);
  if (next.kind !== 'respond') throw new Error(next.reason);
  state = next.state;
  h.send(response(encodeSaslData(next.data)));
  const out = h.take();
  const success = sent(out).find((e) => e.name === 'success');
  if (success) {
    const verdict = clientSuccess(state, decodeSaslData(text(success)));
    if (!verdict.ok) throw new Error(verdict.reason);
  }
  return out;
}

/** Header → STARTTLS → PLAIN → restart → bind → established. Returns the bound JID. */
export function establish(h: Harness, resource = 'balcony'): string {
  throughTls(h);
  plainAuth(h);
  h.send(header());
  h.send(bindIq('bind1', resource));
  h.send({ type: 'RESOURCE_STATUS', resource, inUse: false, boundCount: 0 });
  h.take();
  const bound = h.all.find((c) => c.type === 'bound');
  if (bound?.type !== 'bound') throw new Error(`not bound: at ${h.at().join()}`);
  return bound.jid;
}
