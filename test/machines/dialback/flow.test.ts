/**
 * The three parties of XEP-0220 §1.4 wired in memory: capulet.example (Initiating Server, and
 * Authoritative Server for its own domain), montague.example (Receiving Server). Every element
 * crosses a "wire": serialized by runtime/xml and parsed back by the stream parser on a
 * 'jabber:server' stream, then routed by ./pairs.ts as an s2s stream machine would.
 */
import { createActor, SimulatedClock, type Actor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { authoritativeVerify } from '../../../machines/dialback/authoritative.js';
import { DialbackSecret } from '../../../machines/dialback/key.js';
import { originatingDialback } from '../../../machines/dialback/originating.js';
import { pairKey, routeIncoming, routeOutgoing, verifyCorrelation } from '../../../machines/dialback/pairs.js';
import { DEFAULT_DIALBACK_POLICY } from '../../../machines/dialback/policy.js';
import { receivingDialback } from '../../../machines/dialback/receiving.js';
import type { OriginatingDialbackCommand, ReceivingDialbackCommand, VerifyFailure } from '../../../machines/dialback/types.js';
import { NS } from '../../../machines/ns.js';
import type { XmlElement } from '../../../machines/xml.js';
import { serializeElement } from '../../../runtime/xml/serialize.js';
import { parseOne } from './xep.js';

const CAPULET_SECRET = new DialbackSecret('s3cr3tf0rd14lb4ck');
/** montague's response stream ID on capulet's outgoing stream (XEP-0220 §2). */
const STREAM_ID = 'D60000229F';
const TIMEOUT = 30_000;

/** Bytes and back: what a socket between two servers does to an element. */
const wire = (e: XmlElement): XmlElement => parseOne(serializeElement(e, NS.SERVER));

type Authoritative = 'answers' | VerifyFailure | 'silent';

/** One outgoing stream capulet → montague, and montague's verification stream to capulet. */
class Federation {
  readonly log: string[] = [];
  /** capulet: pairs awaiting a verdict and the verdicts, on its outgoing stream. */
  readonly originating = new Map<string, Actor<typeof originatingDialback>>();
  readonly initiatingEvents: OriginatingDialbackCommand[] = [];
  /** montague: pairs on its incoming stream, the verified ones, and its pending verifications. */
  readonly receiving = new Map<string, Actor<typeof receivingDialback>>();
  readonly authorizedAtMontague = new Set<string>();
  readonly receivingEvents: ReceivingDialbackCommand[] = [];
  readonly pendingVerify = new Map<string, string>(); // correlation → pair
  readonly montagueClock = new SimulatedClock();
  readonly capuletClock = new SimulatedClock();
  streamClosed = false;

  constructor(private readonly authoritative: Authoritative = 'answers') {}

  /** capulet wants to send from `from` to montague.example: Step 1 with the secret it holds. */
  dial(from: string, secret: DialbackSecret = CAPULET_SECRET): void {
    const actor = createActor(originatingDialback, { input: { from, to: 'montague.example', streamId: STREAM_ID, secret, dialbackTimeout: TIMEOUT }, clock: this.capuletClock });
    const pair = pairKey({ from, to: 'montague.example' });
    this.originating.set(pair, actor);
    actor.on('*', (c) => {
      if (c.type === 'send') this.toMontague(wire(c.element));
      else this.initiatingEvents.push(c);
    });
    actor.start();
  }

  /** montague's incoming stream from capulet. */
  private toMontague(e: XmlElement): void {
    this.log.push(`capulet → montague ${e.name}`);
    const route = routeIncoming(e, new Set(this.receiving.keys()));
    if (route.kind !== 'result-request') throw new Error(`montague got ${route.kind}`);
    const actor = createActor(receivingDialback, {
      input: { streamId: STREAM_ID, hosted: ['montague.example'], secured: true, pairsOnStream: this.receiving.size, policy: { ...DEFAULT_DIALBACK_POLICY, dialbackTimeout: TIMEOUT } },
      clock: this.montagueClock,
    });
    this.receiving.set(route.pair, actor);
    actor.on('*', (c) => {
      this.receivingEvents.push(c);
      if (c.type === 'verify') this.toAuthoritative(route.pair, wire(c.element));
      else if (c.type === 'send') this.toCapulet(wire(c.element));
      else if (c.type === 'pairAuthorized') this.authorizedAtMontague.add(pairKey(c));
      else if (c.type === 'pairRejected' && c.closeStream) this.streamClosed = true;
    });
    actor.start();
    actor.send({ type: 'REQUEST', request: route.request });
  }

  /** capulet's inbound verification stream from montague (capulet as Authoritative Server). */
  private toAuthoritative(pair: string, e: XmlElement): void {
    this.log.push(`montague → capulet ${e.name}`);
    const actor = this.receiving.get(pair)!;
    if (this.authoritative === 'silent') return;
    if (this.authoritative !== 'answers') {
      actor.send({ type: 'VERIFY_FAILED', reason: this.authoritative });
      return;
    }
    const route = routeIncoming(e, new Set());
    if (route.kind !== 'verify-request') throw new Error(`capulet got ${route.kind}`);
    this.pendingVerify.set(verifyCorrelation(route.request.to, route.request.from, route.request.id), pair);
    const answer = authoritativeVerify(route.request, (d) => (d.endsWith('capulet.example') ? CAPULET_SECRET : undefined));
    this.fromAuthoritative(wire(answer.element));
  }

  /** montague's outgoing verification stream: Step 3 back to the inbound stream it names. */
  private fromAuthoritative(e: XmlElement): void {
    this.log.push(`capulet → montague ${e.name}`);
    const route = routeOutgoing(e, new Set(), new Set(this.pendingVerify.keys()));
    if (route.kind !== 'verify-answer') throw new Error(`montague got ${route.kind}`);
    const pair = this.pendingVerify.get(route.correlation)!;
    this.pendingVerify.delete(route.correlation);
    const otherPairsAuthorized = [...this.authorizedAtMontague].some((p) => p !== pair);
    this.receiving.get(pair)!.send({ type: 'VERIFY_ANSWER', answer: route.answer, otherPairsAuthorized });
  }

  /** capulet's outgoing stream: Step 4 to the pair's machine. */
  private toCapulet(e: XmlElement): void {
    this.log.push(`montague → capulet ${e.name}`);
    const awaiting = new Set([...this.originating].filter(([, a]) => a.getSnapshot().status === 'active').map(([k]) => k));
    const route = routeOutgoing(e, awaiting, new Set());
    if (route.kind !== 'result-answer') throw new Error(`capulet got ${route.kind}`);
    this.originating.get(route.pair)!.send({ type: 'RESULT', result: route.result });
  }

  stateOf(pair: string): { capulet: unknown; montague: unknown } {
    return { capulet: this.originating.get(pair)?.getSnapshot().value, montague: this.receiving.get(pair)?.getSnapshot().value };
  }
}

const PAIR = pairKey({ from: 'capulet.example', to: 'montague.example' });

describe('three-party dialback in memory (XEP-0220 §1.4, §2.1, §2.2)', () => {
  it('XEP-0220 §1.4: a valid key → four steps over the wire, the pair authorized on both sides', () => {
    const net = new Federation();
    net.dial('capulet.example');
    expect(net.log).toEqual(['capulet → montague result', 'montague → capulet verify', 'capulet → montague verify', 'montague → capulet result']);
    expect(net.stateOf(PAIR)).toEqual({ capulet: 'authorized', montague: 'authorized' });
    expect(net.initiatingEvents).toEqual([{ type: 'pairAuthorized', from: 'capulet.example', to: 'montague.example' }]);
    expect(net.authorizedAtMontague).toEqual(new Set([PAIR]));
    expect(net.streamClosed).toBe(false);
  });

  it("XEP-0220 §2.2.1: a forged key (a secret the Authoritative Server does not hold) → 'invalid' on both sides, montague closes the stream", () => {
    const net = new Federation();
    net.dial('capulet.example', new DialbackSecret('guessed'));
    expect(net.stateOf(PAIR)).toEqual({ capulet: 'rejected', montague: 'rejected' });
    expect(net.initiatingEvents).toEqual([{ type: 'pairRejected', from: 'capulet.example', to: 'montague.example', bounce: 'internal-server-error', stopStream: true }]);
    expect(net.authorizedAtMontague.size).toBe(0);
    expect(net.streamClosed).toBe(true);
  });

  it('XEP-0220 §2.6.1, §2.2.1: multiplexed, a second Sender Domain with a forged key gets <forbidden/> and the first pair keeps the stream', () => {
    const net = new Federation();
    net.dial('capulet.example');
    net.dial('rooms.capulet.example', new DialbackSecret('guessed'));
    const rooms = pairKey({ from: 'rooms.capulet.example', to: 'montague.example' });
    expect(net.stateOf(PAIR)).toEqual({ capulet: 'authorized', montague: 'authorized' });
    expect(net.stateOf(rooms)).toEqual({ capulet: 'failed', montague: 'rejected' });
    expect(net.initiatingEvents[1]).toEqual({ type: 'pairFailed', from: 'rooms.capulet.example', to: 'montague.example', reason: 'error', condition: 'forbidden', bounce: 'remote-server-timeout' });
    expect(net.authorizedAtMontague).toEqual(new Set([PAIR]));
    expect(net.streamClosed).toBe(false);
  });

  it('XEP-0220 §2.6.1: multiplexed, a second Sender Domain with a valid key is authorized beside the first', () => {
    const net = new Federation();
    net.dial('capulet.example');
    net.dial('rooms.capulet.example');
    expect(net.authorizedAtMontague).toEqual(new Set([PAIR, pairKey({ from: 'rooms.capulet.example', to: 'montague.example' })]));
  });

  const UNREACHABLE: readonly [VerifyFailure, string][] = [
    ['not-found', 'remote-server-not-found'],
    ['connection-failed', 'remote-connection-failed'],
    ['connection-lost', 'remote-server-timeout'],
  ];
  it.each(UNREACHABLE)('XEP-0220 §2.5: the Authoritative Server unreachable (%s) → %s at capulet, the stream stays', (failure, condition) => {
    const net = new Federation(failure);
    net.dial('capulet.example');
    expect(net.stateOf(PAIR)).toEqual({ capulet: 'failed', montague: 'failed' });
    expect(net.initiatingEvents).toEqual([{ type: 'pairFailed', from: 'capulet.example', to: 'montague.example', reason: 'error', condition, bounce: 'remote-server-timeout' }]);
    expect(net.streamClosed).toBe(false);
  });

  it('XEP-0220 §2.5: the Authoritative Server silent → montague times out with remote-server-timeout before capulet gives up', () => {
    const net = new Federation('silent');
    net.dial('capulet.example');
    expect(net.stateOf(PAIR)).toEqual({ capulet: 'awaitingVerdict', montague: 'verifying' });
    net.montagueClock.increment(TIMEOUT);
    expect(net.stateOf(PAIR)).toEqual({ capulet: 'failed', montague: 'failed' });
    expect(net.initiatingEvents).toEqual([
      { type: 'pairFailed', from: 'capulet.example', to: 'montague.example', reason: 'error', condition: 'remote-server-timeout', bounce: 'remote-server-timeout' },
    ]);
  });

  it('XEP-0220 §2.1.1: nobody answers at all → capulet times out on its own clock', () => {
    const net = new Federation('silent');
    net.dial('capulet.example');
    net.capuletClock.increment(TIMEOUT);
    expect(net.stateOf(PAIR).capulet).toBe('failed');
    expect(net.initiatingEvents).toEqual([{ type: 'pairFailed', from: 'capulet.example', to: 'montague.example', reason: 'timeout', bounce: 'remote-server-timeout' }]);
  });
});
