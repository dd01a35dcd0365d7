/**
 * A forging peer server at the byte level (what sim/peers/client.ts is for client streams):
 * it connects to one of our servers claiming a domain it does not own. With 'wrong-key' it
 * offers a dialback key it cannot have computed (XEP-0220 §2.1.1) and then sends stanzas
 * from that domain anyway; with 'unauthenticated-from' it skips authentication and sends
 * stanzas straight away (RFC 6120 §4.3.5, §8.1.2.2). Its certificate is untrusted (it names
 * the claimed domain), so SASL EXTERNAL is never open to it. It records what it was told.
 */
import { NS } from '../../machines/ns.js';
import { attr, childElements, type XmlElement } from '../../machines/xml.js';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { STREAM_CLOSE_TAG } from '../../runtime/xml/serialize.js';
import type { VirtualClock } from '../clock.js';
import type { LinkEnd, LinkSink } from '../link.js';
import { PeerTimers } from '../peers/timers.js';
import type { Rng } from '../rng.js';
import { EVIL_DOMAIN, type ForgerPlan } from './scenario.js';

const DIALBACK = 'jabber:server:dialback';

export class Forger implements LinkSink {
  private readonly parser = new StreamParser();
  private readonly timers: PeerTimers;
  private tls = false;
  private acted = false;
  private done = false;
  /** `<db:result type='...'/>` answers it got (XEP-0220 §2.1.3): 'valid' must never be among them. */
  readonly results: string[] = [];
  readonly streamErrors: string[] = [];
  /** Ids of the stanzas it wrote ('forged-N', or 'legit-N' from the domain it owns). */
  readonly forged: string[] = [];

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    private readonly end: LinkEnd,
    readonly plan: ForgerPlan,
    readonly target: string,
  ) {
    this.timers = new PeerTimers(clock);
  }

  start(): void {
    this.header();
    if (this.plan.closeAfter !== undefined) this.timers.after(this.plan.closeAfter, () => this.close());
  }

  receive(chunk: Uint8Array | string): void {
    if (!this.done) this.dispatch(this.parser.write(chunk));
  }

  tlsEstablished(): void {
    this.tls = true;
    this.parser.reset();
    this.header();
  }

  tlsFailed(): void {
    this.finish();
  }

  closed(): void {
    this.finish();
  }

  writeFailed(): void {
    this.end.close();
  }

  /** The domain in its header and dialback request: the claimed one, or evil.test which it owns. */
  private get asDomain(): string {
    return this.plan.mode === 'spoof-after-auth' ? EVIL_DOMAIN : this.plan.claims;
  }

  private header(): void {
    this.end.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='${NS.STREAMS}' xmlns:db='${DIALBACK}' from='${this.asDomain}' to='${this.target}' version='1.0'>`);
  }

  private dispatch(events: ParserEvent[]): void {
    for (const ev of events) {
      if (this.done) return;
      if (ev.type === 'PARSE_ERROR') return this.close();
      if (ev.type === 'STREAM_CLOSE') return this.close();
      if (ev.type === 'ELEMENT') this.element(ev.element);
    }
  }

  private element(e: XmlElement): void {
    if (e.xmlns === NS.STREAMS && e.name === 'error') {
      this.streamErrors.push(childElements(e)[0]?.name ?? '?');
      return;
    }
    if (e.xmlns === NS.STREAMS && e.name === 'features') {
      const starttls = childElements(e).some((c) => c.name === 'starttls' && c.xmlns === NS.TLS);
      if (starttls && !this.tls) this.end.write(`<starttls xmlns='${NS.TLS}'/>`);
      else this.act();
      return;
    }
    if (e.xmlns === NS.TLS && e.name === 'proceed') {
      this.end.startTls();
      return;
    }
    if (e.xmlns === DIALBACK && e.name === 'result') {
      this.results.push(attr(e, 'type') ?? '');
      this.stanza(); // and tries anyway
    }
  }

  /** Once negotiation is as far as it gets: the forgery. */
  private act(): void {
    if (this.acted) return;
    this.acted = true;
    if (this.plan.mode !== 'unauthenticated-from') {
      const key = Buffer.from(this.rng.bytes(32)).toString('hex');
      this.end.write(`<db:result from='${this.asDomain}' to='${this.target}'>${key}</db:result>`);
      // 'wrong-key' does not wait for the answer; 'spoof-after-auth' sends once its result is 'valid'.
      if (this.plan.mode === 'wrong-key') this.timers.after(this.rng.int(0, 30), () => this.stanza());
    } else this.stanza();
  }

  private stanza(): void {
    if (this.done) return;
    // From the domain it owns and authenticated, a stanza is legitimate (and is routed); from any other, forged.
    const legit = this.plan.mode === 'spoof-after-auth' && this.plan.claims === EVIL_DOMAIN;
    const id = `${legit ? 'legit' : 'forged'}-${this.forged.length}`;
    this.forged.push(id);
    this.end.write(`<message xmlns='jabber:server' from='mallory@${this.plan.claims}' to='bob@${this.target}' id='${id}' type='chat'><body>${id}</body></message>`);
  }

  private close(): void {
    if (this.done) return;
    this.end.write(STREAM_CLOSE_TAG);
    this.end.close();
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.timers.clear();
  }
}
