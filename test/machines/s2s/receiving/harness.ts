/**
 * Test harness for the receiving server (machines/s2s/receiving): the shared recorder
 * (deterministic random source, SimulatedClock, commands in order), builders for the
 * initiating server's elements, certificates, and the peer's side of dialback (its secret, so
 * a test can play the Authoritative Server of Step 3).
 */
import { createActor, SimulatedClock } from 'xstate';
import { DialbackSecret, dialbackKey, authoritativeVerify, parseVerify, resultRequest, verifyRequest, type DbVerifyAnswer } from '../../../../machines/dialback/index.js';
import type { PeerCertificate } from '../../../../machines/identity.js';
import { NS } from '../../../../machines/ns.js';
import type { StreamHeader } from '../../../../machines/protocol.js';
import { DEFAULT_RECEIVING_SERVER_POLICY } from '../../../../machines/s2s/policy.js';
import {
  receivingServerMachine,
  type ReceivingServerCommand,
  type ReceivingServerEvent,
  type ReceivingServerInput,
} from '../../../../machines/s2s/receiving/index.js';
import { encodeSaslData, utf8 } from '../../../../machines/sasl/encoding.js';
import { el, type XmlElement } from '../../../../machines/xml.js';
import { counterRandom, recordCommands, TIMEOUTS, type Recorder } from '../../recorder.js';

export { conditionIn, sent, streamErrorOf, types } from '../../recorder.js';

/** Our domains (the Receiving and Authoritative Server) and the peer's (the Initiating Server). */
export const LOCAL = 'im.example.com';
export const OTHER_LOCAL = 'chat.example.com';
export const PEER = 'example.net';
export const OUR_SECRET = 'our dialback secret';
export const PEER_SECRET = 'the peer dialback secret';

export function makeInput(overrides: Partial<ReceivingServerInput> = {}): ReceivingServerInput {
  const ours = new DialbackSecret(OUR_SECRET);
  return {
    ...DEFAULT_RECEIVING_SERVER_POLICY,
    hostedDomains: [LOCAL, OTHER_LOCAL],
    secretFor: (domain) => ([LOCAL, OTHER_LOCAL].includes(domain) ? ours : undefined),
    random: counterRandom(),
    timeouts: TIMEOUTS,
    ...overrides,
  };
}

export type Harness = Recorder<typeof receivingServerMachine> & {
  /** The commands as the machine's own type (the recorder keeps the client-to-server type). */
  readonly cmds: () => ReceivingServerCommand[];
};

export function startServer(overrides: Partial<ReceivingServerInput> = {}): Harness {
  const clock = new SimulatedClock();
  const r = recordCommands(createActor(receivingServerMachine, { input: makeInput(overrides), clock }), clock);
  return Object.assign(r, { cmds: () => r.all as unknown as ReceivingServerCommand[] });
}

/** The commands of one step, in the machine's own type. */
export function stepS2s(h: Harness, e: ReceivingServerEvent): ReceivingServerCommand[] {
  return h.step(e) as unknown as ReceivingServerCommand[];
}

// ---------------------------------------------------------------------------
// The initiating server's elements
// ---------------------------------------------------------------------------

export function header(overrides: Partial<StreamHeader> = {}): ReceivingServerEvent {
  return { type: 'HEADER', header: { from: PEER, to: LOCAL, version: '1.0', contentNamespace: NS.SERVER, ...overrides } };
}
export const element = (e: XmlElement): ReceivingServerEvent => ({ type: 'ELEMENT', element: e });
export const starttls = () => element(el('starttls', NS.TLS));
export const auth = (mechanism: string | undefined, data?: string) => element(el('auth', NS.SASL, { mechanism }, data));
export const response = (data?: string) => element(el('response', NS.SASL, {}, data));
export const abort = () => element(el('abort', NS.SASL));
export const b64 = (s: string) => encodeSaslData(utf8(s));
export const message = (attrs: Record<string, string | undefined> = {}, body = 'hi') =>
  element(el('message', NS.SERVER, { from: `romeo@${PEER}`, to: `juliet@${LOCAL}`, ...attrs }, el('body', NS.SERVER, {}, body)));

/** A certificate as TLS_ESTABLISHED reports it: a trusted chain presenting these DNS-IDs. */
export function certificate(dnsIds: string[], trusted = true): PeerCertificate {
  return { trusted, identifiers: { dnsIds, srvIds: [], xmppAddrs: [], uriIds: [], cn: [] } };
}
export const tlsEstablished = (cert: PeerCertificate | undefined = certificate([PEER])): ReceivingServerEvent => ({
  type: 'TLS_ESTABLISHED',
  ...(cert !== undefined ? { peerCertificate: cert } : {}),
});

/** Header, STARTTLS, TLS with `cert`, the restart's header. */
export function throughTls(h: Harness, cert: PeerCertificate | undefined = certificate([PEER]), over: Partial<StreamHeader> = {}): ReceivingServerCommand[] {
  h.send(header(over));
  h.send(starttls());
  h.send(tlsEstablished(cert));
  return stepS2s(h, header(over));
}

/** The 'id' of our current response header. */
export function streamIdOf(h: Harness): string {
  const open = [...h.cmds()].reverse().find((c) => c.type === 'openStream');
  if (open?.type !== 'openStream' || open.header.id === undefined) throw new Error('no response header yet');
  return open.header.id;
}

// ---------------------------------------------------------------------------
// Dialback, the peer's side
// ---------------------------------------------------------------------------

/** Step 1 as the peer (Sender `from`) sends it for our `to`, keyed with the peer's secret. */
export function dbResult(h: Harness, opts: { from?: string; to?: string; key?: string } = {}): ReceivingServerEvent {
  const from = opts.from ?? PEER;
  const to = opts.to ?? LOCAL;
  return element(resultRequest(from, to, opts.key ?? dialbackKey(PEER_SECRET, to, from, streamIdOf(h))));
}

/** Step 3: what the peer's Authoritative Server answers to our Step 2 request. */
export function authoritativeAnswer(verify: XmlElement): DbVerifyAnswer {
  const parsed = parseVerify(verify);
  if (!parsed.ok || parsed.value.kind !== 'request') throw new Error('not a verify request');
  const peerSecret = new DialbackSecret(PEER_SECRET);
  const answer = parseVerify(authoritativeVerify(parsed.value, (d) => (d === PEER || d === 'example.org' ? peerSecret : undefined)).element);
  if (!answer.ok || answer.value.kind === 'request') throw new Error('no answer');
  return answer.value;
}

/** Step 2 as another server sends it to us as Authoritative Server (for a key we gave it). */
export function dbVerify(from: string, to: string, id: string, key: string): ReceivingServerEvent {
  return element(verifyRequest(from, to, id, key));
}

export function verifyCommand(cmds: ReceivingServerCommand[]) {
  const v = cmds.find((c) => c.type === 'verify');
  if (v?.type !== 'verify') throw new Error(`no verify command in ${cmds.map((c) => c.type).join()}`);
  return v;
}
