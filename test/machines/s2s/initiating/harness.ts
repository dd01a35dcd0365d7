/**
 * Test harness for the initiating server (machines/s2s/initiating): the shared recorder
 * (deterministic random source, SimulatedClock, commands in order), builders for the
 * receiving server's elements and certificates, and the XEP-0220 §2 domains and secret, so
 * that the dialback key of the XEP's own example comes out.
 */
import { createActor, SimulatedClock } from 'xstate';
import { saslFailureElement, streamErrorElement, type SaslFailureCondition, type StreamErrorCondition } from '../../../../machines/conditions.js';
import { DialbackSecret, dialbackFeature, resultAnswer, verifyAnswer, type DialbackVerdict } from '../../../../machines/dialback/index.js';
import type { PeerCertificate } from '../../../../machines/identity.js';
import { NS } from '../../../../machines/ns.js';
import type { StreamHeader } from '../../../../machines/protocol.js';
import {
  DEFAULT_INITIATING_SERVER_POLICY,
  initiatingServerMachine,
  type InitiatingServerCommand,
  type InitiatingServerEvent,
  type InitiatingServerInput,
  type InitiatingServerOutcome,
} from '../../../../machines/s2s/initiating/index.js';
import { el, type XmlElement } from '../../../../machines/xml.js';
import { counterRandom, recordCommands, TIMEOUTS, type Recorder } from '../../recorder.js';

export { conditionIn, sent, streamErrorOf } from '../../recorder.js';
export { TIMEOUTS };

/** XEP-0220 §2: capulet.example (us, the Initiating Server) to montague.example (the Receiving Server). */
export const OURS = 'capulet.example';
export const PEER = 'montague.example';
/** The stream ID of montague's response header in the XEP's key example, and capulet's secret. */
export const STREAM_ID = 'D60000229F';
export const SECRET = 's3cr3tf0rd14lb4ck';
/** XEP-0220 §2.1.1: the key for (montague.example, capulet.example, D60000229F). */
export const XEP_KEY = 'b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3';

export function makeInput(overrides: Partial<InitiatingServerInput> = {}): InitiatingServerInput {
  return {
    ...DEFAULT_INITIATING_SERVER_POLICY,
    domain: OURS,
    remoteDomain: PEER,
    purpose: 'stanzas',
    certificate: true,
    secret: new DialbackSecret(SECRET),
    random: counterRandom(),
    timeouts: TIMEOUTS,
    ...overrides,
  };
}

export type Harness = Recorder<typeof initiatingServerMachine> & {
  /** All commands, in the machine's own type (the recorder keeps the client-to-server type). */
  readonly cmds: () => InitiatingServerCommand[];
  /** Send an event and return the commands it caused, in the machine's type. */
  readonly stepS2s: (e: InitiatingServerEvent) => InitiatingServerCommand[];
  /** Advance the clock and return the commands it caused, in the machine's type. */
  readonly advanceS2s: (ms: number) => InitiatingServerCommand[];
  /** The `ended` command's outcome, with its bounce. */
  readonly ended: () => InitiatingServerOutcome | undefined;
};

export function startServer(overrides: Partial<InitiatingServerInput> = {}): Harness {
  const clock = new SimulatedClock();
  const r = recordCommands(createActor(initiatingServerMachine, { input: makeInput(overrides), clock }), clock);
  const cmds = () => r.all as unknown as InitiatingServerCommand[];
  return Object.assign(r, {
    cmds,
    stepS2s: (e: InitiatingServerEvent) => r.step(e) as unknown as InitiatingServerCommand[],
    advanceS2s: (ms: number) => r.advance(ms) as unknown as InitiatingServerCommand[],
    ended: () => {
      const e = cmds().find((c) => c.type === 'ended');
      return e?.type === 'ended' ? e.outcome : undefined;
    },
  });
}

// ---------------------------------------------------------------------------
// The receiving server's elements
// ---------------------------------------------------------------------------

export function responseHeader(overrides: Partial<StreamHeader> = {}): InitiatingServerEvent {
  return { type: 'HEADER', header: { from: PEER, to: OURS, id: STREAM_ID, version: '1.0', contentNamespace: NS.SERVER, ...overrides } };
}
export const element = (e: XmlElement): InitiatingServerEvent => ({ type: 'ELEMENT', element: e });
export const features = (...children: XmlElement[]) => element(el('features', NS.STREAMS, {}, ...children));
export const starttlsFeature = (required = true) => el('starttls', NS.TLS, {}, required && el('required', NS.TLS));
export const mechanisms = (...names: string[]) => el('mechanisms', NS.SASL, {}, ...names.map((n) => el('mechanism', NS.SASL, {}, n)));
export { dialbackFeature };
export const proceed = () => element(el('proceed', NS.TLS));
export const tlsFailure = () => element(el('failure', NS.TLS));
export const success = () => element(el('success', NS.SASL));
export const challenge = () => element(el('challenge', NS.SASL));
export const saslFailure = (c: SaslFailureCondition) => element(saslFailureElement(c));
export const streamError = (c: StreamErrorCondition) => element(streamErrorElement(c));
/** Step 4 from the peer (Target) to us (Sender). */
export const dbResult = (type: DialbackVerdict) => element(resultAnswer(PEER, OURS, type));
/** Step 3 from the Authoritative Server (the peer, Sender of the key) to us (Target). */
export const dbVerifyAnswer = (id: string, type: DialbackVerdict, from = PEER, to = OURS) => element(verifyAnswer(from, to, id, type));
export const message = (attrs: Record<string, string | undefined> = {}) =>
  el('message', NS.SERVER, { from: `juliet@${OURS}`, to: `romeo@${PEER}`, ...attrs }, el('body', NS.SERVER, {}, 'Art thou not Romeo?'));

/** A certificate as TLS_ESTABLISHED reports it: a chain (trusted or not) presenting these DNS-IDs. */
export function certificate(dnsIds: string[], trusted = true): PeerCertificate {
  return { trusted, identifiers: { dnsIds, srvIds: [], xmppAddrs: [], uriIds: [], cn: [] } };
}
/** TLS_ESTABLISHED with `cert` (undefined: the peer presented none). */
export const tlsEstablished = (cert?: PeerCertificate): InitiatingServerEvent => ({
  type: 'TLS_ESTABLISHED',
  ...(cert !== undefined ? { peerCertificate: cert } : {}),
});

/** Response header, required STARTTLS, proceed, TLS up with `cert`; returns the commands of TLS_ESTABLISHED. */
export function throughTls(h: Harness, cert: PeerCertificate | undefined = certificate([PEER])): InitiatingServerCommand[] {
  h.send(responseHeader({ id: 'plain-1' }));
  h.send(features(starttlsFeature()));
  h.send(proceed());
  return h.stepS2s(tlsEstablished(cert));
}

/** Through TLS, EXTERNAL success and the restart, to established. */
export function viaExternal(h: Harness): InitiatingServerCommand[] {
  throughTls(h);
  h.send(responseHeader());
  h.send(features(mechanisms('EXTERNAL'), dialbackFeature()));
  h.send(success());
  h.send(responseHeader({ id: 'after-sasl' }));
  return h.stepS2s(features(dialbackFeature()));
}

/** Through TLS (our certificate not offered EXTERNAL), dialback Step 1; returns the commands of the features. */
export function toDialback(h: Harness): InitiatingServerCommand[] {
  throughTls(h);
  h.send(responseHeader());
  return h.stepS2s(features(dialbackFeature()));
}

export function commandOf<T extends InitiatingServerCommand['type']>(cmds: InitiatingServerCommand[], type: T): Extract<InitiatingServerCommand, { type: T }> {
  const c = cmds.find((x) => x.type === type);
  if (c === undefined) throw new Error(`no ${type} in ${cmds.map((x) => x.type).join()}`);
  return c as Extract<InitiatingServerCommand, { type: T }>;
}

export const sentOf = (cmds: InitiatingServerCommand[]): XmlElement[] => cmds.flatMap((c) => (c.type === 'send' ? [c.element] : []));

/** Command types, sends as `send:<name>` (the recorder's `types`, in the machine's command type). */
export const types = (cmds: readonly InitiatingServerCommand[]): string[] => cmds.map((c) => (c.type === 'send' ? `send:${c.element.name}` : c.type));
