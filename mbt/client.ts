/**
 * The test client's connection: a TCP socket (upgraded in place with Node's `tls` for
 * STARTTLS, RFC 6120 §5.4.3), the bytes it writes, and what the server wrote back, parsed
 * by the project's stream parser (runtime/xml) into observations.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { StreamHeader } from '../machines/protocol.js';
import type { XmlElement } from '../machines/xml.js';
import { NS } from '../machines/ns.js';
import { StreamParser, type ParserEvent } from '../runtime/xml/index.js';

export type Observation =
  | { readonly kind: 'header'; readonly header: StreamHeader }
  | { readonly kind: 'element'; readonly element: XmlElement }
  | { readonly kind: 'whitespace' }
  /** `</stream:stream>` (§4.4). */
  | { readonly kind: 'close' }
  /** The server closed TCP (or reset it). */
  | { readonly kind: 'eof' }
  /** What the server wrote is not a well-formed stream (the client's parser rejected it). */
  | { readonly kind: 'unparsable'; readonly condition: string; readonly text?: string }
  /** The client's TLS handshake failed. */
  | { readonly kind: 'tls-error'; readonly reason: string };

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs?: number;
}

export class WireClient {
  private socket: net.Socket;
  private parser = new StreamParser();
  private readonly queue: Observation[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;
  /** Every byte written and read, in order, for the report of a failing path. */
  readonly transcript: { dir: 'out' | 'in'; text: string }[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  static connect(opts: ConnectOptions): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${opts.host}:${opts.port} timed out`));
      }, opts.timeoutMs ?? 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new WireClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  write(data: string | Uint8Array): void {
    if (this.ended || this.socket.destroyed) return;
    // The transcript is text: bytes that are not UTF-8 show as U+FFFD there, and go out as they are.
    this.transcript.push({ dir: 'out', text: typeof data === 'string' ? data : Buffer.from(data).toString('utf8') });
    this.socket.write(data);
  }

  /** The client side of the TLS handshake on the same TCP connection (§5.4.3.3); the stream restarts. */
  async startTls(servername: string, opts: { insecure: boolean; ca?: string }): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    this.parser = new StreamParser();
    const secure = tls.connect({
      socket: raw,
      servername: net.isIP(servername) ? undefined : servername,
      rejectUnauthorized: !opts.insecure,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    });
    this.socket = secure;
    await new Promise<void>((resolve) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', (err) => {
        this.push({ kind: 'tls-error', reason: err.message });
        resolve();
      });
    });
    this.listen(secure);
  }

  /** Close our side of TCP (FIN) and stop reading. */
  end(): void {
    if (this.ended) return;
    this.socket.end();
    this.socket.destroySoon?.();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Observations received since the last take(). */
  take(): Observation[] {
    return this.queue.splice(0, this.queue.length);
  }

  /**
   * Resolves once `count` observations that `counts` accepts (default: all but whitespace) are
   * queued, the connection ended, or `ms` passed.
   */
  async waitFor(count: number, ms: number, counts: (o: Observation) => boolean = (o) => o.kind !== 'whitespace'): Promise<void> {
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

  /** Wait `ms` for anything more to arrive. */
  async settle(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.transcript.push({ dir: 'in', text });
      this.parse(text);
    });
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
    let events: ParserEvent[] = this.parser.write(text);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      switch (e.type) {
        case 'HEADER':
          this.push({ kind: 'header', header: e.header });
          break;
        case 'ELEMENT':
          this.push({ kind: 'element', element: e.element });
          // §6.4.6: after <success/> the server's next bytes are a new stream header (§4.3.3).
          if (e.element.name === 'success' && e.element.xmlns === NS.SASL) {
            events = this.parser.reset(e);
            i = -1;
          }
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

  private push(o: Observation): void {
    this.queue.push(o);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
