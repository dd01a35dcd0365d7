/**
 * The scripted server's side of one connection: the accepted TCP socket (upgraded in place
 * with Node's `tls` after `<proceed/>`, RFC 6120 §5.4.3), the bytes it writes, and what the
 * client wrote, parsed by the project's stream parser (runtime/xml) into observations.
 *
 * Two restarts need care: after `<proceed/>` the client's next bytes are a TLS ClientHello
 * (observed as 'tls-start' and kept for the handshake); after `<success/>` they are a new
 * stream header (§4.3.3), unless the client refuses the success on its old stream (a wrong
 * server signature, RFC 5802 §5), so the parser is only replaced when a header arrives.
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { StreamParser, type ParserEvent } from '../../runtime/xml/index.js';
import type { Observation } from '../client.js';

/** What the client did, as the server sees it. 'tls-start': its first TLS handshake record after `<proceed/>`. */
export type ClientObservation = Observation | { readonly kind: 'tls-start' };

export class ServerWire {
  private socket: net.Socket;
  private parser = new StreamParser();
  private readonly queue: ClientObservation[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;
  private expectHello = false;
  private restartPending = false;
  /** The client's TLS bytes read before our handshake starts, handed back to the socket for it. */
  private held: Buffer[] | undefined;
  readonly transcript: { dir: 'out' | 'in'; text: string }[] = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    this.listen(socket);
  }

  get closed(): boolean {
    return this.ended;
  }

  write(data: string): void {
    if (this.ended || this.socket.destroyed) return;
    this.transcript.push({ dir: 'out', text: data });
    this.socket.write(data);
  }

  /** After `<proceed/>`: the client's next bytes belong to TLS. */
  expectClientHello(): void {
    this.expectHello = true;
  }

  /** After `<success/>`: the client restarts its stream, or answers on the old one. */
  expectRestart(): void {
    this.restartPending = true;
  }

  /** The server side of the TLS handshake on the same TCP connection (§5.4.3.3). */
  async startTls(credentials: { key: string; cert: string }, timeoutMs: number): Promise<boolean> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    if (this.held !== undefined) {
      raw.pause();
      raw.unshift(Buffer.concat(this.held));
      this.held = undefined;
    }
    const secure = new tls.TLSSocket(raw, { isServer: true, key: credentials.key, cert: credentials.cert });
    this.socket = secure;
    this.parser = new StreamParser();
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      secure.once('secure', () => {
        clearTimeout(timer);
        resolve(true);
      });
      secure.once('error', (err) => {
        clearTimeout(timer);
        this.transcript.push({ dir: 'in', text: `(TLS: ${err.message})` });
        resolve(false);
      });
    });
    this.listen(secure);
    if (!ok && !this.ended) {
      // The handshake failed: nothing more can be read on this connection.
      this.ended = true;
      this.push({ kind: 'eof' });
      secure.destroy();
    }
    return ok;
  }

  end(): void {
    if (this.ended) return;
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  take(): ClientObservation[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** Resolves once `count` observations `counts` accepts are queued, the connection ended, or `ms` passed. */
  async waitFor(count: number, ms: number, counts: (o: ClientObservation) => boolean): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.queue.filter(counts).length < count && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private listen(socket: net.Socket): void {
    const onData = (chunk: Buffer): void => {
      if (this.held !== undefined) {
        this.held.push(chunk);
        return;
      }
      if (this.expectHello) {
        this.expectHello = false;
        if (chunk[0] === 0x16) {
          // A TLS handshake record: kept for the handshake (startTls), and the connection still watched for its end.
          this.held = [chunk];
          this.transcript.push({ dir: 'in', text: '(TLS ClientHello)' });
          this.push({ kind: 'tls-start' });
          return;
        }
      }
      const text = chunk.toString('utf8');
      this.transcript.push({ dir: 'in', text });
      if (this.restartPending) {
        this.restartPending = false;
        if (/^\s*<(\?xml|stream:stream)/.test(text)) this.parser = new StreamParser();
      }
      this.parse(text);
    };
    socket.on('data', onData);
    const gone = (): void => {
      if (this.ended) return;
      this.ended = true;
      this.push({ kind: 'eof' });
    };
    socket.on('end', gone);
    socket.on('close', gone);
    socket.on('error', gone);
  }

  private parse(text: string): void {
    const events: ParserEvent[] = this.parser.write(text);
    for (const e of events) {
      switch (e.type) {
        case 'HEADER':
          this.push({ kind: 'header', header: e.header });
          break;
        case 'ELEMENT':
          this.push({ kind: 'element', element: e.element });
          break;
        case 'KEEPALIVE':
          this.push({ kind: 'whitespace' });
          break;
        case 'STREAM_CLOSE':
          this.push({ kind: 'close' });
          break;
        case 'PARSE_ERROR':
          this.push({ kind: 'unparsable', condition: e.condition, ...(e.text !== undefined ? { text: e.text } : {}) });
          break;
      }
    }
  }

  private push(o: ClientObservation): void {
    this.queue.push(o);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
