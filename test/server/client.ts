/**
 * A minimal raw-socket XMPP client for server tests: it writes exactly the bytes a test
 * gives it and reads the server's stream with the project's own StreamParser, so tests can
 * wait for elements with a timeout. `login` performs a full negotiation: STARTTLS with
 * Node's tls (pinning the server's certificate), SCRAM with the machines' SASL client
 * functions, and resource binding.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { NS } from '../../machines/ns.js';
import type { MechanismName } from '../../machines/protocol.js';
import { clientChallenge, clientStart, clientSuccess, decodeSaslData, encodeSaslData, type SaslState } from '../../machines/sasl/index.js';
import { attr, child, el, text, type XmlElement } from '../../machines/xml.js';
import { StreamParser, type ParserEvent } from '../../runtime/xml/parser.js';
import { serializeElement } from '../../runtime/xml/serialize.js';

export const HEADER = (to = 'localhost') =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

const random = (n: number) => new Uint8Array(randomBytes(n));

export class RawClient {
  socket: net.Socket;
  /** Everything received on the current socket layer, as text. */
  received = '';
  events: ParserEvent[] = [];
  private cursor = 0;
  private parser = new StreamParser();
  private waiters: (() => void)[] = [];
  private isClosed = false;
  private closeWaiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.listen(socket);
    socket.on('close', () => {
      this.isClosed = true;
      for (const w of this.closeWaiters.splice(0)) w();
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  send(element: XmlElement): void {
    this.write(serializeElement(element, NS.CLIENT));
  }

  open(to = 'localhost'): void {
    this.write(HEADER(to));
  }

  /** The next parser event matching `pred` after the ones already consumed. */
  async next(pred: (e: ParserEvent) => boolean, timeoutMs = 3000, what = 'event'): Promise<ParserEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.events.length) {
        const e = this.events[this.cursor++]!;
        if (pred(e)) return e;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received: ${this.received.slice(-600)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next top-level element with that name (and namespace). */
  async element(name: string, xmlns?: string, timeoutMs = 3000): Promise<XmlElement> {
    const e = await this.next(
      (ev) => ev.type === 'ELEMENT' && ev.element.name === name && (xmlns === undefined || ev.element.xmlns === xmlns),
      timeoutMs,
      `<${name}/>`,
    );
    return (e as { element: XmlElement }).element;
  }

  /** The next stanza matching `pred`. */
  async stanza(pred: (s: XmlElement) => boolean, timeoutMs = 3000, what = 'stanza'): Promise<XmlElement> {
    const e = await this.next((ev) => ev.type === 'ELEMENT' && pred(ev.element), timeoutMs, what);
    return (e as { element: XmlElement }).element;
  }

  /** Elements received so far (consumed or not). */
  elements(): XmlElement[] {
    return this.events.flatMap((e) => (e.type === 'ELEMENT' ? [e.element] : []));
  }

  /** Resolves when the server closed TCP; rejects after the timeout. */
  waitClosed(timeoutMs = 3000): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms; received: ${this.received.slice(-400)}`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** A new stream follows (after TLS or SASL success, §4.3.3): parse from scratch. */
  resetParser(): void {
    this.parser = new StreamParser();
    this.events = [];
    this.cursor = 0;
  }

  /** STARTTLS on this connection (§5.4.3), trusting only `ca` (the server's self-signed certificate); `extra`: e.g. our own certificate (s2s). */
  async startTls(ca: string | undefined, servername = 'localhost', extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    this.socket.removeAllListeners('data');
    this.resetParser();
    const secure = tls.connect({ socket: this.socket, servername, ...(ca ? { ca } : { rejectUnauthorized: false }), ...extra });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.received = '';
    this.listen(secure);
    return secure;
  }

  destroy(): void {
    this.socket.destroy();
  }

  end(): void {
    this.socket.end();
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('utf8');
      this.events.push(...this.parser.write(chunk));
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

export interface LoginOptions {
  readonly username: string;
  readonly password: string;
  readonly resource?: string;
  readonly ca?: string;
  readonly mechanism?: MechanismName;
}

/** Connect and negotiate STARTTLS (§5.4), up to the features of the restarted, encrypted stream. */
export async function secured(port: number, ca?: string): Promise<{ client: RawClient; features: XmlElement }> {
  const c = await RawClient.connect(port);
  c.open();
  await c.element('features', NS.STREAMS);
  c.send(el('starttls', NS.TLS));
  await c.element('proceed', NS.TLS);
  await c.startTls(ca);
  c.open();
  return { client: c, features: await c.element('features', NS.STREAMS) };
}

/** Negotiate a full session: STARTTLS, SASL, bind. Returns the client and its bound JID. */
export async function login(port: number, opts: LoginOptions): Promise<{ client: RawClient; jid: string }> {
  const { client: c } = await secured(port, opts.ca);
  await authenticate(c, opts.username, opts.password, opts.mechanism ?? 'SCRAM-SHA-256');
  c.resetParser();
  c.open();
  const features = await c.element('features', NS.STREAMS);
  if (!child(features, 'bind', NS.BIND)) throw new Error('no <bind/> offered');
  const jid = await bind(c, opts.resource);
  return { client: c, jid };
}

/** SASL with the machines' client functions (§6.4); throws on `<failure/>`. */
export async function authenticate(c: RawClient, username: string, password: string, mechanism: MechanismName): Promise<void> {
  const ctx = { random };
  const start = clientStart(mechanism, { username, password }, ctx);
  if (start.kind !== 'respond') throw new Error(start.reason);
  let state: SaslState = start.state;
  c.send(el('auth', NS.SASL, { mechanism }, encodeSaslData(start.data)));
  for (;;) {
    const e = await c.stanza((s) => s.xmlns === NS.SASL, 5000, 'SASL answer');
    if (e.name === 'challenge') {
      const step = clientChallenge(state, decodeSaslData(text(e)) ?? new Uint8Array(), ctx);
      if (step.kind !== 'respond') throw new Error(step.reason);
      state = step.state;
      c.send(el('response', NS.SASL, {}, encodeSaslData(step.data)));
    } else if (e.name === 'success') {
      const ok = clientSuccess(state, text(e) === '' ? undefined : decodeSaslData(text(e)));
      if (!ok.ok) throw new Error(ok.reason);
      return;
    } else {
      throw new Error(`SASL failed: ${serializeElement(e, NS.CLIENT)}`);
    }
  }
}

let bindCounter = 0;
export async function bind(c: RawClient, resource?: string): Promise<string> {
  const id = `bind-${++bindCounter}`;
  c.send(el('iq', NS.CLIENT, { type: 'set', id }, el('bind', NS.BIND, {}, resource !== undefined && el('resource', NS.BIND, {}, resource))));
  const result = await c.stanza((s) => s.name === 'iq' && attr(s, 'id') === id, 3000, 'bind result');
  const jid = child(result, 'bind', NS.BIND) && child(child(result, 'bind', NS.BIND)!, 'jid', NS.BIND);
  if (attr(result, 'type') !== 'result' || !jid) throw new Error(`bind failed: ${serializeElement(result, NS.CLIENT)}`);
  return text(jid);
}

/** The defined condition of a stanza's `<error/>` (§8.3.2) and its type. */
export function stanzaError(s: XmlElement): { condition?: string; type?: string } {
  const error = child(s, 'error', s.xmlns);
  if (!error) return {};
  const condition = error.children.find((n): n is XmlElement => typeof n !== 'string' && n.xmlns === NS.STANZAS && n.name !== 'text')?.name;
  return { condition, type: attr(error, 'type') };
}

/** The defined condition of a `<stream:error/>` (§4.9.2). */
export function streamErrorCondition(e: XmlElement): string | undefined {
  return e.children.find((n): n is XmlElement => typeof n !== 'string' && n.xmlns === NS.STREAM_ERRORS && n.name !== 'text')?.name;
}

/** Wait until `check` holds (polling), for connection bookkeeping after a socket ends. */
export async function eventually(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
