/**
 * Test harness for the initiating entity: a scripted-server harness (the client machine alone,
 * fed with hand-built server elements) and an in-memory link that connects the client machine
 * to the receiving-entity machine, with a tiny host answering the server's account-store and
 * session-registry questions.
 */
import { createActor, SimulatedClock, type Actor } from 'xstate';
import { streamErrorElement, saslFailureElement, type SaslFailureCondition, type StreamErrorCondition } from '../../../machines/conditions.js';
import { initiatingEntityMachine, type InitiatingEntityEvent, type InitiatingEntityMachineInput } from '../../../machines/initiating/index.js';
import { NS } from '../../../machines/ns.js';
import { DEFAULT_CLIENT_POLICY, DEFAULT_SERVER_POLICY } from '../../../machines/policy.js';
import type { Command, StreamHeader, StreamOutcome } from '../../../machines/protocol.js';
import { receivingEntityMachine, type ReceivingEntityEvent, type ReceivingEntityMachineInput } from '../../../machines/receiving/index.js';
import { deriveCredentials, encodeSaslData, type StoredCredentials } from '../../../machines/sasl/index.js';
import { el, type XmlElement } from '../../../machines/xml.js';
import { counterRandom, recordCommands, sent, TIMEOUTS, type Recorder } from '../recorder.js';

export { conditionIn, counterRandom, leaves, sent, streamErrorOf, TIMEOUTS, types } from '../recorder.js';

export const DOMAIN = 'im.example.com';
export const USER = 'juliet';
export const PASSWORD = 'r0m30myr0m30';
export const BARE = `${USER}@${DOMAIN}`;

export function clientInput(overrides: Partial<InitiatingEntityMachineInput> = {}): InitiatingEntityMachineInput {
  return {
    ...DEFAULT_CLIENT_POLICY,
    jid: BARE,
    password: PASSWORD,
    random: counterRandom(3),
    timeouts: TIMEOUTS,
    ...overrides,
  };
}

// ---------------------------------------------------------------------------
// The client alone, against a scripted server
// ---------------------------------------------------------------------------

export type ClientHarness = Recorder<typeof initiatingEntityMachine>;

export function startClient(overrides: Partial<InitiatingEntityMachineInput> = {}): ClientHarness {
  const clock = new SimulatedClock();
  return recordCommands(createActor(initiatingEntityMachine, { input: clientInput(overrides), clock }), clock);
}

// Server elements ------------------------------------------------------------------

export function serverHeader(overrides: Partial<StreamHeader> = {}): InitiatingEntityEvent {
  return {
    type: 'HEADER',
    header: { from: DOMAIN, id: 'stream-1', version: '1.0', lang: 'en', contentNamespace: NS.CLIENT, ...overrides },
  };
}
export const element = (e: XmlElement): InitiatingEntityEvent => ({ type: 'ELEMENT', element: e });
export const features = (...children: XmlElement[]) => element(el('features', NS.STREAMS, {}, ...children));
export const starttlsFeature = (required = false) => el('starttls', NS.TLS, {}, required && el('required', NS.TLS));
export const mechanisms = (...names: string[]) => el('mechanisms', NS.SASL, {}, ...names.map((n) => el('mechanism', NS.SASL, {}, n)));
export const bindFeature = () => el('bind', NS.BIND);
export const proceed = () => element(el('proceed', NS.TLS));
export const tlsFailure = () => element(el('failure', NS.TLS));
export const challenge = (data?: string) => element(el('challenge', NS.SASL, {}, data));
export const success = (data?: string) => element(el('success', NS.SASL, {}, data));
export const saslFailure = (c: SaslFailureCondition, text?: string) => element(saslFailureElement(c, text));
export const streamError = (c: StreamErrorCondition, text?: string) =>
  element(c === 'see-other-host' ? el('error', NS.STREAMS, {}, el('see-other-host', NS.STREAM_ERRORS, {}, text ?? '')) : streamErrorElement(c, text));
export const bindResultIq = (id: string | undefined, jid: string) =>
  element(el('iq', NS.CLIENT, { id, type: 'result' }, el('bind', NS.BIND, {}, el('jid', NS.BIND, {}, jid))));
export const bindErrorIq = (id: string | undefined, condition: string, type = 'cancel') =>
  element(el('iq', NS.CLIENT, { id, type: 'error' }, el('error', NS.CLIENT, { type }, el(condition, NS.STANZAS))));
export const message = (attrs: Record<string, string | undefined> = {}, body = 'hi') =>
  el('message', NS.CLIENT, { to: BARE, from: 'romeo@example.net/orchard', ...attrs }, el('body', NS.CLIENT, {}, body));
export const b64 = (s: string) => encodeSaslData(new TextEncoder().encode(s));

// Command helpers ------------------------------------------------------------------

export function lastSent(h: ClientHarness): XmlElement | undefined {
  return sent(h.all).at(-1);
}

/** Scripted server: header + features with STARTTLS, proceed, TLS up, second header. */
export function scriptedTls(h: ClientHarness): void {
  h.send(serverHeader());
  h.send(features(starttlsFeature(true)));
  h.send(proceed());
  h.send({ type: 'TLS_ESTABLISHED' });
  h.send(serverHeader({ id: 'stream-2' }));
}

/** Scripted server through PLAIN success (over TLS) to the restart header and bind features. */
export function scriptedToBind(h: ClientHarness): string {
  scriptedTls(h);
  h.send(features(mechanisms('PLAIN')));
  h.send(success());
  h.send(serverHeader({ id: 'stream-3' }));
  h.take();
  h.send(features(bindFeature()));
  const iq = lastSent(h);
  if (iq?.name !== 'iq') throw new Error(`expected a bind IQ, at ${h.at().join()}`);
  return iq.attrs.id!;
}

/** Scripted server all the way to established; returns the bound JID. */
export function scriptedEstablish(h: ClientHarness, jid = `${BARE}/balcony`): string {
  const id = scriptedToBind(h);
  h.send(bindResultIq(id, jid));
  h.take();
  if (!h.at().some((s) => s.startsWith('open.established'))) throw new Error(`not established: ${h.at().join()}`);
  return jid;
}

// ---------------------------------------------------------------------------
// Client ⇄ server in memory
// ---------------------------------------------------------------------------

let cachedCredentials: StoredCredentials | undefined;
export function storedCredentials(): StoredCredentials {
  cachedCredentials ??= deriveCredentials(PASSWORD, { random: counterRandom(99), iterations: 4096 });
  return cachedCredentials;
}

export function serverInput(overrides: Partial<ReceivingEntityMachineInput> = {}): ReceivingEntityMachineInput {
  return { ...DEFAULT_SERVER_POLICY, domain: DOMAIN, random: counterRandom(1), timeouts: TIMEOUTS, ...overrides };
}

export interface Link {
  readonly client: Actor<typeof initiatingEntityMachine>;
  readonly server: Actor<typeof receivingEntityMachine>;
  readonly clock: SimulatedClock;
  readonly clientCommands: Command[];
  readonly serverCommands: Command[];
  /** Resources bound so far (the host's session registry). */
  readonly bound: string[];
  /** Stanzas the host routed back to the same client (addressed to its own JID). */
  sendToClient(stanza: XmlElement): void;
  clientEvent(event: InitiatingEntityEvent): void;
  serverEvent(event: ReceivingEntityEvent): void;
  advance(ms: number): void;
  clientOutcome(): StreamOutcome | undefined;
  serverOutcome(): StreamOutcome | undefined;
  delivered(): XmlElement[];
}

export interface LinkOptions {
  readonly client?: Partial<InitiatingEntityMachineInput>;
  readonly server?: Partial<ReceivingEntityMachineInput>;
  /** Resources the registry reports as in use by another session. */
  readonly inUse?: readonly string[];
}

/**
 * Connect the two machines: each one's commands become the other's events, elements passed
 * as objects (no serialization). TLS: when the client starts its handshake (after reading
 * `<proceed/>`), both ends get TLS_ESTABLISHED. closeSocket on either end gives the other
 * SOCKET_CLOSED and cuts the link. A FIFO keeps deliveries in order and out of XState's
 * own processing.
 */
export function connect(opts: LinkOptions = {}): Link {
  const clock = new SimulatedClock();
  const clientCommands: Command[] = [];
  const serverCommands: Command[] = [];
  const bound: string[] = [];
  const queue: (() => void)[] = [];
  let linkUp = true;
  let pumping = false;
  const pump = () => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) queue.shift()!();
    } finally {
      pumping = false;
    }
  };
  const client = createActor(initiatingEntityMachine, { input: clientInput(opts.client), clock });
  const server = createActor(receivingEntityMachine, { input: serverInput(opts.server), clock });
  const toServer = (e: ReceivingEntityEvent) => queue.push(() => server.getSnapshot().status === 'active' && server.send(e));
  const toClient = (e: InitiatingEntityEvent) => queue.push(() => client.getSnapshot().status === 'active' && client.send(e));
  const cut = (from: 'client' | 'server') => {
    if (!linkUp) return;
    linkUp = false;
    if (from === 'client') toServer({ type: 'SOCKET_CLOSED', reason: 'peer closed' });
    else toClient({ type: 'SOCKET_CLOSED', reason: 'peer closed' });
  };

  client.on('*', (cmd: Command) => {
    clientCommands.push(cmd);
    if (!linkUp && cmd.type !== 'ended') return;
    switch (cmd.type) {
      case 'openStream':
        return toServer({ type: 'HEADER', header: cmd.header });
      case 'send':
        return toServer({ type: 'ELEMENT', element: cmd.element });
      case 'sendWhitespace':
        return toServer({ type: 'KEEPALIVE' });
      case 'closeStream':
        return toServer({ type: 'STREAM_CLOSE' });
      case 'startTls':
        toServer({ type: 'TLS_ESTABLISHED' });
        toClient({ type: 'TLS_ESTABLISHED' });
        return;
      case 'closeSocket':
        return cut('client');
      default:
        return;
    }
  });
  server.on('*', (cmd: Command) => {
    serverCommands.push(cmd);
    if (!linkUp && cmd.type !== 'ended') return;
    switch (cmd.type) {
      case 'openStream':
        return toClient({ type: 'HEADER', header: cmd.header });
      case 'send':
        return toClient({ type: 'ELEMENT', element: cmd.element });
      case 'sendWhitespace':
        return toClient({ type: 'KEEPALIVE' });
      case 'closeStream':
        return toClient({ type: 'STREAM_CLOSE' });
      case 'closeSocket':
        return cut('server');
      case 'lookupCredentials':
        return toServer({ type: 'CREDENTIALS', username: cmd.username, credentials: cmd.username === USER ? storedCredentials() : null });
      case 'queryResource':
        return toServer({
          type: 'RESOURCE_STATUS',
          resource: cmd.resource,
          inUse: (opts.inUse ?? []).includes(cmd.resource),
          boundCount: bound.length,
        });
      case 'bound':
        bound.push(cmd.jid);
        return;
      case 'deliver': {
        // The host's router: a stanza to the account itself comes back to this session (§10.5).
        const to = cmd.stanza.attrs['to'];
        if (to !== undefined && (to === BARE || bound.includes(to))) toServer({ type: 'ROUTE_IN', stanza: { ...cmd.stanza, attrs: { ...cmd.stanza.attrs, to: bound[0] ?? to } } });
        return;
      }
      default:
        return;
    }
  });
  server.start();
  client.start();
  pump();
  const outcomeOf = (cmds: Command[]) => {
    const ended = cmds.find((c) => c.type === 'ended');
    return ended?.type === 'ended' ? ended.outcome : undefined;
  };
  return {
    client,
    server,
    clock,
    clientCommands,
    serverCommands,
    bound,
    sendToClient(stanza) {
      toServer({ type: 'ROUTE_IN', stanza });
      pump();
    },
    clientEvent(event) {
      toClient(event);
      pump();
    },
    serverEvent(event) {
      toServer(event);
      pump();
    },
    advance(ms) {
      clock.increment(ms);
      pump();
    },
    clientOutcome: () => outcomeOf(clientCommands),
    serverOutcome: () => outcomeOf(serverCommands),
    delivered: () => clientCommands.flatMap((c) => (c.type === 'deliver' ? [c.stanza] : [])),
  };
}
