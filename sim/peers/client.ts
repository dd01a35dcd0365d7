/**
 * A scripted client at the byte level: conformant by default (STARTTLS when offered, SASL
 * with the real client side of machines/sasl, bind, stanzas, §4.4 close), and able to stop
 * or misbehave at any phase of its script. It reads the server with the project's
 * StreamParser, so anything the server writes that is not a well-formed stream shows up as
 * a parse error (an invariant violation: the server must never write bad XML).
 */
import { NS } from '../../machines/ns.js';
import type { MechanismName, StreamHeader } from '../../machines/protocol.js';
import { clientChallenge, clientStart, clientSuccess, decodeSaslData, encodeSaslData, type SaslContext, type SaslState } from '../../machines/sasl/index.js';
import { attr, child, childElements, el, text, type XmlElement } from '../../machines/xml.js';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { serializeElement, serializeHeader, STREAM_CLOSE_TAG } from '../../runtime/xml/serialize.js';
import { ABSENT_USERS, SALTED_PASSWORD_CACHE, SIM_ACCOUNTS } from '../accounts.js';
import type { VirtualClock } from '../clock.js';
import type { Link, LinkEnd, LinkSink } from '../link.js';
import type { Rng } from '../rng.js';
import type { Misbehaviour, Phase, ScriptedClientPlan, StanzaKind } from '../scenario.js';
import { PeerTimers } from './timers.js';

/** One stanza the client wrote after binding. */
export interface SentStanza {
  readonly id: string;
  readonly kind: StanzaKind;
  readonly name: string;
  readonly type: string | undefined;
  readonly to: string | undefined;
  readonly at: number;
}

export interface ClientRecord {
  readonly index: number;
  jid: string | undefined;
  boundAt: number | undefined;
  readonly sent: SentStanza[];
  readonly received: { readonly at: number; readonly stanza: XmlElement }[];
  readonly streamErrors: string[];
  /** The server's output was not a well-formed stream (§11): the message. */
  readonly parseErrors: string[];
  /** Misbehaviour actually performed (the phase may never be reached). */
  misbehavedAt: number | undefined;
  stoppedAt: number | undefined;
  /** We wrote our closing tag (§4.4). */
  wroteClose: boolean;
  /** Server offered no STARTTLS and the client, which requires TLS, refused to authenticate (§5.3.1). */
  refusedWithoutTls: boolean;
  /** The client machine's outcome (machine clients only). */
  outcome?: import('../../machines/protocol.js').StreamOutcome;
}

export interface ClientWorld {
  readonly clock: VirtualClock;
  /** The client machine's timeouts (the server's, so both sides agree on scales). */
  readonly timeouts: import('../../machines/protocol.js').Timeouts;
  readonly rng: Rng;
  readonly domain: string;
  /** Ask the host to end this client's server session (§4.4 server-initiated close, §4.9.3.20 shutdown). */
  serverClose(how: 'close' | 'shutdown'): void;
}

const CLOSE_WAIT = 10_000;

export class ScriptedClient implements LinkSink {
  readonly record: ClientRecord;
  private readonly parser = new StreamParser();
  private readonly password: string;
  private readonly timers: PeerTimers;
  private readonly saslCtx: SaslContext;
  private phase: Phase | 'done' = 'open';
  private sasl: SaslState | undefined;
  private mechanism: MechanismName | undefined;
  private challengeCount = 0;
  private wrongPassword = false;
  private dead = false;
  private silent = false;
  private seq = 0;

  constructor(
    private readonly world: ClientWorld,
    private readonly link: Link,
    private readonly end: LinkEnd,
    readonly plan: ScriptedClientPlan,
    index: number,
  ) {
    this.timers = new PeerTimers(world.clock);
    this.password = SIM_ACCOUNTS[plan.user]!;
    this.saslCtx = { random: (n) => world.rng.bytes(n), saltedPasswordCache: SALTED_PASSWORD_CACHE };
    this.record = {
      index, jid: undefined, boundAt: undefined, sent: [], received: [], streamErrors: [], parseErrors: [],
      misbehavedAt: undefined, stoppedAt: undefined, wroteClose: false, refusedWithoutTls: false,
    };
    end.attach(this);
  }

  /** The connection is up: write the first stream header (§4.2). */
  start(): void {
    this.open();
  }

  // -- LinkSink ------------------------------------------------------------------------

  receive(chunk: Uint8Array | string): void {
    if (this.dead) return;
    this.dispatch(this.parser.write(chunk));
  }

  tlsEstablished(): void {
    if (this.dead) return;
    this.parser.reset();
    this.writeHeader();
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

  // -- reading -------------------------------------------------------------------------

  private dispatch(events: ParserEvent[]): void {
    for (let i = 0; i < events.length && !this.dead; i++) {
      const ev = events[i]!;
      if (ev.type === 'PARSE_ERROR') {
        this.record.parseErrors.push(`${ev.condition}${ev.text ? `: ${ev.text}` : ''}`);
        this.end.close();
        return;
      }
      if (ev.type === 'STREAM_CLOSE') {
        // §4.4: answer the server's closing tag with ours (unless already sent), then TCP.
        if (!this.silent) {
          this.writeClose();
          this.end.close();
        }
        return;
      }
      if (ev.type !== 'ELEMENT' || this.silent) continue;
      const restart = this.element(ev.element);
      if (restart) {
        // §4.3.3: after <success/> the server's next bytes start a new stream.
        events = this.parser.reset(ev);
        i = -1;
      }
    }
  }

  /** Returns true when the stream restarts after this element. */
  private element(e: XmlElement): boolean {
    if (e.xmlns === NS.STREAMS && e.name === 'error') {
      const condition = childElements(e).find((c) => c.xmlns === NS.STREAM_ERRORS && c.name !== 'text')?.name ?? '?';
      this.record.streamErrors.push(condition);
      return false;
    }
    if (e.xmlns === NS.STREAMS && e.name === 'features') {
      this.features(e);
      return false;
    }
    if (e.xmlns === NS.TLS) {
      // 'handshake': a peer that goes away or silent in the middle of the TLS handshake (§5.4.3.1).
      if (e.name === 'proceed' && !this.checkpoint('handshake')) this.end.startTls();
      return false; // <failure/>: the server closes the stream (§5.4.2.2)
    }
    if (e.xmlns === NS.SASL) return this.saslElement(e);
    if (e.name === 'iq' && attr(e, 'id') === 'bind' && this.phase === 'bind') {
      this.bindAnswer(e);
      return false;
    }
    this.stanza(e);
    return false;
  }

  private features(f: XmlElement): void {
    const starttls = child(f, 'starttls', NS.TLS);
    const mechanisms = child(f, 'mechanisms', NS.SASL);
    if (starttls && !this.end.encrypted) {
      // §5.3.1: this client always wants TLS when offered.
      if (this.checkpoint('starttls')) return;
      this.write(el('starttls', NS.TLS));
      return;
    }
    if (mechanisms) {
      if (!this.end.encrypted) {
        // §5.3.1 / §13.9.4: this client requires TLS; the server did not offer it: refuse to authenticate.
        this.record.refusedWithoutTls = true;
        this.closeStream();
        return;
      }
      const offered = childElements(mechanisms).map((m) => text(m));
      this.mechanism = this.plan.mechanisms.find((m) => offered.includes(m));
      if (this.checkpoint('auth')) return;
      this.startAuth();
      return;
    }
    if (child(f, 'bind', NS.BIND)) {
      this.phase = 'bind';
      if (this.checkpoint('bind')) return;
      const resource = this.plan.resource;
      this.write(el('iq', NS.CLIENT, { type: 'set', id: 'bind' }, el('bind', NS.BIND, {}, resource !== undefined && el('resource', NS.BIND, {}, resource))));
      return;
    }
    this.closeStream();
  }

  private startAuth(): void {
    const mechanism = this.mechanism;
    if (mechanism === undefined) {
      this.closeStream(); // §6.4.1: nothing offered that this client uses
      return;
    }
    const password = this.wrongPassword ? `${this.password}-wrong` : this.password;
    const first = clientStart(mechanism, { username: this.plan.user, password }, this.saslCtx);
    if (first.kind !== 'respond') throw new Error(`sim client: ${first.reason}`);
    this.sasl = first.state;
    this.challengeCount = 0;
    const data = this.plan.initialResponse ? encodeSaslData(first.data) : undefined;
    this.write(el('auth', NS.SASL, { mechanism }, data));
  }

  private saslElement(e: XmlElement): boolean {
    if (e.name === 'challenge' && this.sasl) {
      this.challengeCount++;
      const data = decodeSaslData(text(e));
      // The server-first challenge is the mid-exchange point ('challenge' phase) of SCRAM.
      const serverFirst = this.mechanism !== 'PLAIN' && (this.plan.initialResponse ? this.challengeCount === 1 : this.challengeCount === 2);
      if (serverFirst && this.checkpoint('challenge')) return false;
      const step = data === undefined ? undefined : clientChallenge(this.sasl, data, this.saslCtx);
      if (step?.kind !== 'respond') {
        this.write(el('abort', NS.SASL)); // §6.4.4
        return false;
      }
      this.sasl = step.state;
      this.write(el('response', NS.SASL, {}, encodeSaslData(step.data)));
      return false;
    }
    if (e.name === 'success') {
      // §6.4.6: the stream restarts whatever we think of it. A success for an <auth/> a
      // misbehaviour sent (no exchange state here) is taken as is.
      const body = text(e);
      const verdict = this.sasl === undefined ? { ok: true } : clientSuccess(this.sasl, body === '' ? undefined : decodeSaslData(body));
      this.sasl = undefined;
      if (!verdict.ok) {
        this.closeStream(); // RFC 5802 §3: a server that cannot prove itself is not trusted
        return false;
      }
      if (!this.silent) this.writeHeader();
      return true;
    }
    if (e.name === 'failure') {
      this.sasl = undefined;
      // §6.4.5: retry (the wrong-password script keeps failing until the server's limit).
      if (this.phase === 'starttls') this.write(el('starttls', NS.TLS)); // a SASL element sent too early (§6.5.4): now do TLS
      else if (this.wrongPassword || this.phase === 'auth' || this.phase === 'challenge') this.startAuth();
      return false;
    }
    return false;
  }

  private bindAnswer(iq: XmlElement): void {
    const jid = child(iq, 'bind', NS.BIND) && child(child(iq, 'bind', NS.BIND)!, 'jid', NS.BIND);
    if (attr(iq, 'type') !== 'result' || !jid) {
      // The bad-bind script keeps sending bad requests until the server's §7.7.3 limit.
      if (this.plan.misbehave?.what === 'bad-bind' && attr(iq, 'type') === 'error') this.badBind();
      else this.closeStream();
      return;
    }
    this.record.jid = text(jid);
    this.record.boundAt = this.world.clock.now();
    this.phase = 'established';
    if (this.checkpoint('established')) return;
    this.runStanzas(0);
  }

  private stanza(e: XmlElement): void {
    this.record.received.push({ at: this.world.clock.now(), stanza: e });
    const type = attr(e, 'type');
    // §8.2.3: answer every IQ get/set addressed to us (the server's XEP-0199 ping included).
    if (e.name === 'iq' && (type === 'get' || type === 'set')) {
      const reply = el('iq', NS.CLIENT, { type: 'result', id: attr(e, 'id'), to: attr(e, 'from') });
      this.write(reply);
    }
  }

  // -- the script ------------------------------------------------------------------------

  private open(): void {
    if (this.checkpoint('open')) return;
    this.writeHeader();
  }

  private runStanzas(k: number): void {
    if (this.dead || this.silent || this.record.wroteClose) return;
    const step = this.plan.stanzas[k];
    if (step === undefined) {
      this.timers.after(this.plan.idle, () => this.ending());
      return;
    }
    this.timers.after(step.gap, () => {
      if (this.dead || this.silent || this.record.wroteClose) return;
      this.sendStanza(step.kind);
      this.runStanzas(k + 1);
    });
  }

  private ending(): void {
    if (this.dead || this.silent || this.record.wroteClose) return;
    this.phase = 'closing';
    if (this.checkpoint('closing')) return;
    if (this.plan.ending === 'client-close') this.closeStream();
    else this.world.serverClose(this.plan.ending === 'shutdown' ? 'shutdown' : 'close');
  }

  private sendStanza(kind: StanzaKind): void {
    if (kind === 'whitespace') {
      this.end.write(' '); // §4.6.1 whitespace keepalive
      return;
    }
    const s = planStanza(kind, this.record.index, this.seq++, this.plan.user, this.world.domain);
    this.record.sent.push({ id: attr(s, 'id')!, kind, name: s.name, type: attr(s, 'type'), to: attr(s, 'to'), at: this.world.clock.now() });
    this.write(s);
  }

  /** Stop or misbehave here when the plan says so; true when the normal script must not go on. */
  private checkpoint(at: Phase): boolean {
    this.phase = at;
    const m = this.plan.misbehave;
    if (m && m.at === at && this.record.misbehavedAt === undefined) {
      this.record.misbehavedAt = this.world.clock.now();
      if (this.misbehave(m.what)) return true;
    }
    const stop = this.plan.stop;
    if (stop && stop.at === at && this.record.stoppedAt === undefined) {
      this.record.stoppedAt = this.world.clock.now();
      this.stopNow(stop.how);
      return true;
    }
    return false;
  }

  private stopNow(how: 'silent' | 'stop-reading' | 'cut' | 'socket-close'): void {
    this.silent = true;
    this.timers.clear();
    if (how === 'stop-reading') this.end.setReading(false);
    else if (how === 'cut') this.link.sever('connection reset (simulated)');
    else if (how === 'socket-close') this.end.close();
  }

  /** Perform a misbehaviour; true when the script stops there (the server's answer ends the stream). */
  private misbehave(what: Misbehaviour): boolean {
    const d = this.world.domain;
    const raw = (s: string) => this.end.write(s);
    const header = (attrs: string) => raw(`<?xml version='1.0'?>${attrs}`);
    switch (what) {
      case 'stanza-before-auth':
        this.write(el('message', NS.CLIENT, { to: `bob@${d}`, id: 'early' }, el('body', NS.CLIENT, {}, 'too early')));
        return true;
      case 'bad-stream-namespace':
        header(`<stream:stream xmlns='jabber:client' xmlns:stream='http://example.com/not-streams' to='${d}' version='1.0'>`);
        return true;
      case 'server-content-namespace':
        header(`<stream:stream xmlns='jabber:server' xmlns:stream='${NS.STREAMS}' to='${d}' version='1.0'>`);
        return true;
      case 'bad-stream-prefix':
        header(`<str:stream xmlns='jabber:client' xmlns:str='${NS.STREAMS}' to='${d}' version='1.0'>`);
        return true;
      case 'undeclared-prefix':
        if (this.phase === 'open') this.writeHeader();
        raw(`<x:message to='bob@${d}'><x:body>?</x:body></x:message>`);
        return true;
      case 'garbage': {
        if (this.phase === 'open' && this.world.rng.chance(0.5)) this.writeHeader();
        const alphabet = '<>&;/="\'ab:\u0001\u0008 \n';
        let g = '<<';
        const n = this.world.rng.int(1, 30);
        for (let i = 0; i < n; i++) g += alphabet[this.world.rng.int(0, alphabet.length - 1)];
        raw(g);
        return true;
      }
      case 'restricted-xml': {
        if (this.phase === 'open' && this.world.rng.chance(0.5)) this.writeHeader();
        const samples = ['<!-- a comment -->', '<?php echo 1 ?>', `<!DOCTYPE message [<!ENTITY x 'y'>]>`, `<message to='bob@${d}'>&x;</message>`];
        raw(this.world.rng.pick(samples));
        return true;
      }
      case 'oversize':
        raw(`<message to='bob@${d}'><body>${'A'.repeat(SIM_MAX_STANZA_BYTES + 10)}</body></message>`);
        return true;
      case 'invalid-utf8':
        if (this.phase === 'open') this.writeHeader();
        this.end.writeBytes(Uint8Array.from([0x3c, 0xff, 0xfe, 0xc3, 0x28, 0x3e]));
        return true;
      case 'second-auth':
        this.write(el('auth', NS.SASL, { mechanism: 'PLAIN' }, encodeSaslData(new TextEncoder().encode(`\0${this.plan.user}\0${this.password}`))));
        return true;
      case 'bind-twice':
        this.write(el('iq', NS.CLIENT, { type: 'set', id: 'bind2' }, el('bind', NS.BIND, {}, el('resource', NS.BIND, {}, 'again'))));
        return true;
      case 'data-after-close':
        this.writeClose();
        raw(`<message to='bob@${d}'><body>after close</body></message>`);
        return true;
      case 'wrong-password':
        if (this.mechanism === undefined) this.record.misbehavedAt = undefined; // nothing to authenticate with: never happened
        this.wrongPassword = true;
        return false; // the script goes on with the wrong password (§6.4.5 retries)
      case 'abort':
        this.write(el('abort', NS.SASL)); // §6.4.4; the <failure/> answer makes the script start over
        return true;
      case 'response-out-of-turn':
        this.write(el('response', NS.SASL, {}, 'AAAA')); // §6.5.8 malformed-request; the <failure/> answer makes the script start over
        return true;
      case 'foreign-stanza':
        raw(`<message xmlns='jabber:server' to='bob@${d}' from='${this.record.jid ?? ''}'><body>s2s</body></message>`);
        return true;
      case 'unknown-element':
        raw(`<thing xmlns='urn:sim:unknown'/>`);
        return true;
      case 'invalid-from':
        this.write(el('message', NS.CLIENT, { to: `bob@${d}`, from: `mallory@${d}/x`, id: 'spoof' }, el('body', NS.CLIENT, {}, 'spoof')));
        return true;
      case 'starttls-again':
        this.write(el('starttls', NS.TLS));
        return true;
      case 'auth-before-tls':
        this.write(el('auth', NS.SASL, { mechanism: 'PLAIN' }, encodeSaslData(new TextEncoder().encode(`\0${this.plan.user}\0${this.password}`))));
        return true; // §6.5.4 encryption-required; the <failure/> makes the script do STARTTLS
      case 'abort-before-tls':
        this.write(el('abort', NS.SASL));
        return true;
      case 'response-before-tls':
        this.write(el('response', NS.SASL, {}, 'AAAA'));
        return true;
      case 'pipelined-after-starttls':
        // §5.4.3.3: plaintext behind <starttls/> must be discarded, never processed.
        raw(`${serializeElement(el('starttls', NS.TLS), NS.CLIENT)}<message to='bob@${d}' id='injected'><body>injected</body></message>`);
        return true;
      case 'header-mid-stream':
        // A stream header where no restart is due (no XML declaration: that alone would be restricted XML).
        raw(`<stream:stream xmlns='jabber:client' xmlns:stream='${NS.STREAMS}' to='${d}' version='1.0'>`);
        return true;
      case 'stream-error':
        raw(`<stream:error><undefined-condition xmlns='${NS.STREAM_ERRORS}'/></stream:error>`);
        this.writeClose();
        return true;
      case 'bad-bind':
        this.badBind();
        return true;
    }
  }

  /** §7.7.2.1: a resourcepart that is only whitespace (bad-request). */
  private badBind(): void {
    this.write(el('iq', NS.CLIENT, { type: 'set', id: 'bind' }, el('bind', NS.BIND, {}, el('resource', NS.BIND, {}, '   '))));
  }

  // -- writing ---------------------------------------------------------------------------

  private writeHeader(): void {
    const header: StreamHeader = { to: this.world.domain, version: '1.0', lang: 'en', contentNamespace: NS.CLIENT, ...(this.end.encrypted ? { from: `${this.plan.user}@${this.world.domain}` } : {}) };
    this.end.write(serializeHeader(header));
  }

  private write(e: XmlElement): void {
    this.end.write(serializeElement(e, NS.CLIENT));
  }

  private writeClose(): void {
    if (this.record.wroteClose) return;
    this.record.wroteClose = true;
    this.end.write(STREAM_CLOSE_TAG);
  }

  /** §4.4: our closing tag; the server answers with its own and closes TCP (or we do after a while). */
  private closeStream(): void {
    this.writeClose();
    this.timers.after(CLOSE_WAIT, () => this.end.close());
  }

  private finish(): void {
    if (this.dead) return;
    this.dead = true;
    this.phase = 'done';
    this.timers.clear();
  }
}

/** The simulator's stanza size limit (§13.12): small, so oversize input is cheap to generate. */
export const SIM_MAX_STANZA_BYTES = 8192;

/** The other accounts, per user (computed once: a script step runs for every stanza). */
const PEERS = new Map<string, readonly string[]>();

function peersOf(user: string): readonly string[] {
  let peers = PEERS.get(user);
  if (peers === undefined) PEERS.set(user, (peers = Object.keys(SIM_ACCOUNTS).filter((u) => u !== user)));
  return peers;
}

function body(t: string): XmlElement {
  return el('body', NS.CLIENT, {}, t);
}

function ping(): XmlElement {
  return el('ping', NS.PING);
}

/** The stanza a script step sends (ids are unique per client: `c<index>-<seq>`). */
export function planStanza(kind: StanzaKind, index: number, seq: number, user: string, d: string): XmlElement {
  const absent = ABSENT_USERS[seq % ABSENT_USERS.length];
  const peers = peersOf(user);
  const peer = peers[seq % peers.length];
  const id = `c${index}-${seq}`;
  switch (kind) {
    case 'msg-peer': return el('message', NS.CLIENT, { id, to: `${peer}@${d}`, type: 'chat' }, body(id));
    case 'msg-self': return el('message', NS.CLIENT, { id }, body(id));
    case 'presence': return el('presence', NS.CLIENT, { id });
    case 'ping-server': return el('iq', NS.CLIENT, { id, to: d, type: 'get' }, ping());
    case 'ping-self': return el('iq', NS.CLIENT, { id, to: `${user}@${d}`, type: 'get' }, ping());
    case 'iq-absent-bare': return el('iq', NS.CLIENT, { id, to: `${absent}@${d}`, type: 'get' }, ping());
    case 'iq-absent-full': return el('iq', NS.CLIENT, { id, to: `${absent}@${d}/r${seq}`, type: 'get' }, ping());
    case 'msg-absent-bare': return el('message', NS.CLIENT, { id, to: `${absent}@${d}` }, body(id));
    case 'msg-absent-full': return el('message', NS.CLIENT, { id, to: `${absent}@${d}/r${seq}` }, body(id));
    case 'iq-unknown': return el('iq', NS.CLIENT, { id, to: d, type: 'get' }, el('query', 'urn:sim:unknown'));
    case 'error-to-absent':
      return el('message', NS.CLIENT, { id, to: `${absent}@${d}`, type: 'error' }, el('error', NS.CLIENT, { type: 'cancel' }, el('item-not-found', NS.STANZAS)));
    case 'msg-remote':
    case 'whitespace': // callers write whitespace themselves; a message keeps the function total
      return el('message', NS.CLIENT, { id, to: `someone@elsewhere.example` }, body(id));
  }
}
