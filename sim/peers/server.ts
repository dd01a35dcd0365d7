/**
 * A scripted server at the byte level, to run the project's client machine against servers
 * that get things wrong. It is conformant (STARTTLS, SCRAM/PLAIN through the server side of
 * machines/sasl with the simulator's stored keys, bind, IQ answers, §4.4 close) except for
 * its one fault. It reads the client with the project's StreamParser.
 */
import { NS } from '../../machines/ns.js';
import type { MechanismName } from '../../machines/protocol.js';
import {
  decodeSaslData, encodeSaslData, serverResponse, serverStart, serverWithCredentials,
  type SaslState, type ServerStep,
} from '../../machines/sasl/index.js';
import { attr, child, el, text, type XmlElement } from '../../machines/xml.js';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { serializeElement, serializeHeader, STREAM_CLOSE_TAG } from '../../runtime/xml/serialize.js';
import { storedCredentials } from '../accounts.js';
import type { VirtualClock } from '../clock.js';
import type { LinkEnd, LinkSink } from '../link.js';
import type { Rng } from '../rng.js';

/** What a misbehaving server gets wrong (RFC 6120 section it breaks). */
export const SERVER_FAULTS = [
  'none',
  'no-features', // §4.3.2: header, then never any <features/>
  'no-stream-id', // §4.7.3: response header without 'id'
  'no-version', // §4.7.5: response header without version='1.0'
  'bad-server-signature', // RFC 5802 §3 / §6.4.6: <success/> with a wrong v=
  'no-starttls', // §5.3.1: mechanisms offered in clear, no STARTTLS (PLAIN too)
  'tls-failure', // §5.4.2.2: <failure xmlns=tls/> instead of <proceed/>
  'handshake-fails', // §5.4.3.2: <proceed/>, then the TLS handshake fails
  'no-bind-feature', // §7.4: empty features after SASL
  'silent-after-auth', // §4.6: never answers the bind request
] as const;
export type ServerFault = (typeof SERVER_FAULTS)[number];

export interface ServerScriptWorld {
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly domain: string;
}

export class ScriptedServer implements LinkSink {
  private readonly parser = new StreamParser();
  private secured = false;
  private authenticated = false;
  private sasl: SaslState | undefined;
  private dead = false;
  private wroteClose = false;
  private streams = 0;
  private username = '';

  constructor(
    private readonly world: ServerScriptWorld,
    private readonly end: LinkEnd,
    readonly fault: ServerFault,
  ) {
    end.attach(this);
  }

  receive(chunk: Uint8Array | string): void {
    if (!this.dead) this.dispatch(this.parser.write(chunk));
  }

  tlsEstablished(): void {
    this.secured = true;
    this.parser.reset();
  }

  tlsFailed(): void {
    this.dead = true;
  }

  closed(): void {
    this.dead = true;
  }

  writeFailed(): void {
    this.end.close();
  }

  private dispatch(events: ParserEvent[]): void {
    for (let i = 0; i < events.length && !this.dead; i++) {
      const ev = events[i]!;
      if (ev.type === 'HEADER') this.header();
      else if (ev.type === 'STREAM_CLOSE') {
        this.close();
        this.end.close();
      } else if (ev.type === 'PARSE_ERROR') {
        this.end.close();
      } else if (ev.type === 'ELEMENT') {
        if (this.element(ev.element)) {
          events = this.parser.reset(ev);
          i = -1;
        }
      }
    }
  }

  private header(): void {
    this.streams++;
    const id = this.fault === 'no-stream-id' ? undefined : `s${this.streams}-${this.world.rng.u32().toString(16)}`;
    const version = this.fault === 'no-version' ? undefined : '1.0';
    this.end.write(serializeHeader({ from: this.world.domain, contentNamespace: NS.CLIENT, lang: 'en', ...(id ? { id } : {}), ...(version ? { version } : {}) }));
    if (this.fault === 'no-features') return;
    let features: XmlElement;
    if (!this.secured && this.fault !== 'no-starttls') features = el('features', NS.STREAMS, {}, el('starttls', NS.TLS, {}, el('required', NS.TLS)));
    else if (!this.authenticated) {
      const mechs: MechanismName[] = this.fault === 'no-starttls' ? ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] : ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
      features = el('features', NS.STREAMS, {}, el('mechanisms', NS.SASL, {}, ...mechs.map((m) => el('mechanism', NS.SASL, {}, m))));
    } else if (this.fault === 'no-bind-feature') features = el('features', NS.STREAMS);
    else features = el('features', NS.STREAMS, {}, el('bind', NS.BIND));
    this.write(features);
  }

  /** True when the client's stream restarts after this element (our <success/>). */
  private element(e: XmlElement): boolean {
    if (e.xmlns === NS.TLS && e.name === 'starttls') {
      if (this.fault === 'tls-failure') {
        this.write(el('failure', NS.TLS));
        this.close();
        return false;
      }
      this.write(el('proceed', NS.TLS));
      if (this.fault === 'handshake-fails') {
        this.end.tlsFailsNext = true;
      }
      this.end.startTls();
      this.parser.reset();
      return false;
    }
    if (e.xmlns === NS.SASL) return this.saslElement(e);
    if (e.xmlns === NS.STREAMS && e.name === 'error') {
      this.close();
      this.end.close();
      return false;
    }
    if (e.name === 'iq') {
      const type = attr(e, 'type');
      const bind = child(e, 'bind', NS.BIND);
      if (bind && type === 'set') {
        if (this.fault === 'silent-after-auth') return false;
        const resource = child(bind, 'resource', NS.BIND);
        const jid = `${this.username}@${this.world.domain}/${resource ? text(resource) : 'gen'}`;
        this.write(el('iq', NS.CLIENT, { id: attr(e, 'id'), type: 'result' }, el('bind', NS.BIND, {}, el('jid', NS.BIND, {}, jid))));
        return false;
      }
      if (type === 'get' || type === 'set') this.write(el('iq', NS.CLIENT, { id: attr(e, 'id'), type: 'result', from: attr(e, 'to') }));
    }
    return false;
  }

  private saslElement(e: XmlElement): boolean {
    let step: ServerStep | undefined;
    const ctx = { random: (n: number) => this.world.rng.bytes(n) };
    if (e.name === 'auth') {
      const data = text(e);
      step = serverStart(attr(e, 'mechanism') as MechanismName, data === '' ? undefined : decodeSaslData(data), ctx);
    } else if (e.name === 'response' && this.sasl) {
      step = serverResponse(this.sasl, decodeSaslData(text(e)) ?? new Uint8Array(0), ctx);
    } else if (e.name === 'abort') {
      this.write(el('failure', NS.SASL, {}, el('aborted', NS.SASL)));
      return false;
    }
    if (step?.kind === 'lookup') step = serverWithCredentials(step.state, storedCredentials(step.username), ctx);
    if (!step) return false;
    switch (step.kind) {
      case 'challenge':
        this.sasl = step.state;
        this.write(el('challenge', NS.SASL, {}, encodeSaslData(step.data)));
        return false;
      case 'success': {
        let data = step.additionalData;
        if (this.fault === 'bad-server-signature' && data) {
          // v= with one byte of the signature flipped.
          const good = new TextDecoder().decode(data);
          const sig = Buffer.from(good.slice(2), 'base64');
          sig[0] = sig[0]! ^ 0xff;
          data = new TextEncoder().encode(`v=${sig.toString('base64')}`);
        }
        this.authenticated = true;
        this.username = step.username;
        this.sasl = undefined;
        this.write(el('success', NS.SASL, {}, data ? encodeSaslData(data) : undefined));
        return true;
      }
      case 'failure':
        this.write(el('failure', NS.SASL, {}, el(step.condition, NS.SASL)));
        return false;
      default:
        return false;
    }
  }

  /** §4.4: the server ends the stream (its application, or a shutdown): closing tag first. */
  closeStream(): void {
    if (!this.dead) this.close();
  }

  private write(e: XmlElement): void {
    this.end.write(serializeElement(e, NS.CLIENT));
  }

  private close(): void {
    if (this.wroteClose) return;
    this.wroteClose = true;
    this.end.write(STREAM_CLOSE_TAG);
  }
}
