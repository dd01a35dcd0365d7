/**
 * The initiating server against the receiving server machine (machines/s2s/receiving), in
 * memory: each one's commands become the other's events, elements passed as objects. The
 * test plays the TLS layer (each side sees the other's certificate) and our Authoritative
 * Server (XEP-0220 §2.2.2) for the receiving server's Step 2. Both paths end in a delivered
 * stanza: SASL EXTERNAL (XEP-0178 §3) and dialback (XEP-0220 §2.1.1, §2.2.1).
 */
import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { authoritativeVerify, dialbackKey, DialbackSecret, parseVerify } from '../../../../machines/dialback/index.js';
import type { PeerCertificate } from '../../../../machines/identity.js';
import { DEFAULT_RECEIVING_SERVER_POLICY } from '../../../../machines/s2s/policy.js';
import { initiatingServerMachine, type InitiatingServerCommand, type InitiatingServerEvent, type InitiatingServerInput } from '../../../../machines/s2s/initiating/index.js';
import { receivingServerMachine, type ReceivingServerCommand, type ReceivingServerEvent } from '../../../../machines/s2s/receiving/index.js';
import { counterRandom, TIMEOUTS } from '../../recorder.js';
import { OURS, PEER, SECRET, certificate, makeInput, message } from './harness.js';

const PEER_SECRET = 'd14lb4ck43v3r'; // montague.example's, XEP-0220 §2

interface LinkOptions {
  readonly initiating?: Partial<InitiatingServerInput>;
  /** What each side's TLS layer reports about the other's certificate. */
  readonly ourCertificate?: PeerCertificate;
  readonly peerCertificate?: PeerCertificate;
  /** The secret our Authoritative Server checks keys with (a forger does not know SECRET). */
  readonly authoritativeSecret?: string;
}

function link(opts: LinkOptions = {}) {
  const clock = new SimulatedClock();
  const queue: (() => void)[] = [];
  const initCmds: InitiatingServerCommand[] = [];
  const recvCmds: ReceivingServerCommand[] = [];
  let up = true;
  const init = createActor(initiatingServerMachine, { input: makeInput(opts.initiating), clock });
  const recv = createActor(receivingServerMachine, {
    input: {
      ...DEFAULT_RECEIVING_SERVER_POLICY,
      hostedDomains: [PEER],
      secretFor: (d) => (d === PEER ? new DialbackSecret(PEER_SECRET) : undefined),
      random: counterRandom(5),
      timeouts: TIMEOUTS,
    },
    clock,
  });
  const toInit = (e: InitiatingServerEvent) => queue.push(() => init.getSnapshot().status === 'active' && init.send(e));
  const toRecv = (e: ReceivingServerEvent) => queue.push(() => recv.getSnapshot().status === 'active' && recv.send(e));
  const pump = () => {
    while (queue.length > 0) queue.shift()!();
  };
  const authoritative = new DialbackSecret(opts.authoritativeSecret ?? SECRET);
  init.on('*', (c: InitiatingServerCommand) => {
    initCmds.push(c);
    if (!up) return;
    if (c.type === 'openStream') toRecv({ type: 'HEADER', header: c.header });
    else if (c.type === 'send') toRecv({ type: 'ELEMENT', element: c.element });
    else if (c.type === 'closeStream') toRecv({ type: 'STREAM_CLOSE' });
    else if (c.type === 'startTls') {
      toRecv({ type: 'TLS_ESTABLISHED', peerCertificate: opts.ourCertificate ?? certificate([OURS]) });
      toInit({ type: 'TLS_ESTABLISHED', peerCertificate: opts.peerCertificate ?? certificate([PEER]) });
    } else if (c.type === 'closeSocket') {
      up = false;
      toRecv({ type: 'SOCKET_CLOSED' });
    }
  });
  recv.on('*', (c: ReceivingServerCommand) => {
    recvCmds.push(c);
    if (!up) return;
    if (c.type === 'openStream') toInit({ type: 'HEADER', header: c.header });
    else if (c.type === 'send') toInit({ type: 'ELEMENT', element: c.element });
    else if (c.type === 'closeStream') toInit({ type: 'STREAM_CLOSE' });
    else if (c.type === 'closeSocket') {
      up = false;
      toInit({ type: 'SOCKET_CLOSED' });
    } else if (c.type === 'verify') {
      // Step 2 reaches our Authoritative Server (XEP-0220 §2.2.2); its Step 3 comes back.
      const request = parseVerify(c.element);
      if (!request.ok || request.value.kind !== 'request') throw new Error('bad verify');
      const answer = parseVerify(authoritativeVerify(request.value, (d) => (d === OURS ? authoritative : undefined)).element);
      if (answer.ok && answer.value.kind !== 'request') toRecv({ type: 'VERIFY_ANSWER', answer: answer.value });
    }
  });
  recv.start();
  init.start();
  pump();
  return {
    initCmds,
    recvCmds,
    send(e: InitiatingServerEvent) {
      toInit(e);
      pump();
    },
    delivered: () => recvCmds.flatMap((c) => (c.type === 'deliver' ? [c.stanza] : [])),
    initState: () => JSON.stringify(init.getSnapshot().value),
  };
}

describe('initiating server ⇄ receiving server (RFC 6120 §5, §6, §8; XEP-0178; XEP-0220)', () => {
  it('XEP-0178 §3: STARTTLS, both certificates good: EXTERNAL, restart, both sides authenticated, a stanza delivered', () => {
    const l = link();
    expect(l.initCmds.filter((c) => c.type === 'authenticated')).toEqual([{ type: 'authenticated', from: OURS, to: PEER, method: 'sasl-external' }]);
    expect(l.recvCmds.filter((c) => c.type === 'authenticated')).toEqual([{ type: 'authenticated', from: OURS, to: PEER, method: 'sasl-external' }]);
    l.send({ type: 'SEND', stanza: message() });
    expect(l.delivered()).toEqual([message()]);
  });

  it("XEP-0220 §2.1.1, §2.2.1: our certificate does not name us: no EXTERNAL, dialback, the Authoritative Server says valid", () => {
    const l = link({ ourCertificate: certificate(['someone.else.example']) });
    expect(l.initCmds.filter((c) => c.type === 'authenticated')).toEqual([{ type: 'authenticated', from: OURS, to: PEER, method: 'dialback' }]);
    l.send({ type: 'SEND', stanza: message() });
    expect(l.delivered()).toEqual([message()]);
  });

  it('XEP-0220 §2.1.1, §2.2.1: a key our Authoritative Server does not recognise: invalid, rejected, the stream is closed by both', () => {
    const l = link({ initiating: { certificate: false }, authoritativeSecret: 'not the secret that made the key' });
    expect(l.initCmds.filter((c) => c.type === 'pairRejected')).toHaveLength(1);
    const ended = l.initCmds.find((c) => c.type === 'ended');
    expect(ended?.type === 'ended' && ended.outcome).toMatchObject({ bounce: 'internal-server-error' });
    expect(l.delivered()).toEqual([]);
  });

  it('XEP-0220 §2.1.2, §2.2.2: a verification-only stream: the receiving server, as Authoritative Server, answers our <db:verify/>', () => {
    const key = dialbackKey(PEER_SECRET, OURS, PEER, '417GAF25');
    const l = link({ initiating: { purpose: 'verify' } });
    l.send({ type: 'VERIFY', from: OURS, to: PEER, id: '417GAF25', key, correlation: 'incoming-1' });
    expect(l.initCmds.filter((c) => c.type === 'verifyAnswer')).toMatchObject([{ correlation: 'incoming-1', valid: true }]);
    // The last answer closes the verification-only stream (XEP-0220 §2.1.2 note); a later request needs another one.
    expect(l.initCmds.at(-1)).toMatchObject({ type: 'ended', outcome: { kind: 'closed' } });
  });

  it('XEP-0220 §2.2.2: a key made for another stream id is invalid', () => {
    const l = link({ initiating: { purpose: 'verify' } });
    l.send({ type: 'VERIFY', from: OURS, to: PEER, id: '417GAF26', key: dialbackKey(PEER_SECRET, OURS, PEER, '417GAF25'), correlation: 'incoming-2' });
    expect(l.initCmds.filter((c) => c.type === 'verifyAnswer')).toMatchObject([{ correlation: 'incoming-2', valid: false, answer: { kind: 'invalid' } }]);
  });
});
