/**
 * In-memory byte links for the simulator: a bidirectional connection whose two ends are
 * `Transport`s for a SessionDriver (or for a scripted peer). Bytes are split into
 * fragments (down to one byte), delayed, stalled, cut; TLS is an event pair: each end
 * asks for it (`startTls`) and once both have, both get `tlsEstablished` (or both fail).
 * Nothing real: no sockets, no wall time; every choice comes from the seeded Rng.
 */
import type { PeerCertificate } from '../machines/identity.js';
import type { DuplexTransport, TlsInfo } from '../runtime/session/driver.js';
import type { VirtualClock } from './clock.js';
import type { Rng } from './rng.js';

/** What sits at an end of a link and receives from it (a SessionDriver fits). */
export interface LinkSink {
  /** The next bytes, or the text of a whole write (exactly what its bytes decode to). */
  receive(chunk: Uint8Array | string): void;
  tlsEstablished(info?: TlsInfo): void;
  tlsFailed(reason: string): void;
  closed(reason?: string): void;
  writeFailed(reason?: string): void;
}

export interface LinkFaults {
  /** Largest fragment a write is split into (1 = byte by byte). */
  readonly maxFragment: number;
  /** Delivery delay range in virtual ms. */
  readonly delay: readonly [number, number];
  /** Cut the connection abruptly after this many bytes have crossed it (both directions). */
  readonly cutAfterBytes?: number;
  /** The TLS handshake fails. */
  readonly tlsFails?: boolean;
  /** Writes from end 'a' (or 'b') fail after this many bytes: §4.6.1 dead connection. */
  readonly writeFailAfter?: { readonly end: 'a' | 'b'; readonly bytes: number };
  /**
   * After a failed TLS handshake each end also hears the connection close (a TLS socket emits
   * 'close' after its 'error'). Server-to-server links set it: the federation waits for the close.
   */
  readonly closeAfterTlsFailure?: boolean;
  /** Bytes an end may have queued toward a peer that does not read before writes fail. */
  readonly maxBuffered?: number;
}

export const CLEAN_LINK: LinkFaults = { maxFragment: 1 << 16, delay: [1, 1] };

/** One segment that crossed the link, for invariants and traces. */
export interface Segment {
  readonly from: 'a' | 'b';
  readonly at: number;
  readonly text: string;
  /** TLS was established on the sending end when it was written. */
  readonly encrypted: boolean;
}

export class Link {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
  readonly segments: Segment[] = [];
  bytesCrossed = 0;
  cut = false;

  constructor(
    readonly clock: VirtualClock,
    readonly rng: Rng,
    readonly faults: LinkFaults = CLEAN_LINK,
    readonly recordSegments = true,
  ) {
    this.a = new LinkEnd(this, 'a');
    this.b = new LinkEnd(this, 'b');
  }

  other(end: LinkEnd): LinkEnd {
    return end === this.a ? this.b : this.a;
  }

  /** Abrupt cut: both ends learn the connection is gone, nothing more crosses. */
  sever(reason = 'cut'): void {
    if (this.cut) return;
    this.cut = true;
    for (const end of [this.a, this.b]) end.terminate(reason);
  }
}

export class LinkEnd implements DuplexTransport {
  sink: LinkSink | undefined;
  /** The certificate this end presents in TLS (server-to-server links): the peer gets it on TLS established (§13.7.2.1). */
  certificate: PeerCertificate | undefined;
  encrypted = false;
  /** A scripted peer makes the next TLS handshake on this link fail (§5.4.3.2). */
  tlsFailsNext = false;
  /** Peer-side switch: false models a peer that stopped reading but keeps the socket. */
  reading = true;
  private tlsWanted = false;
  private closing = false;
  private gone = false;
  private lastDeliveryAt = 0;
  private written = 0;
  /** Raw bytes were written here: they may end inside a character, so later text goes as bytes too. */
  private wroteRaw = false;
  /** A write failed (simulated fault) at this end. */
  writeFailedReported = false;
  /** What was written toward this end that it has not read (while `reading` is false). */
  private unread: (Uint8Array | string)[] = [];
  private unreadBytes = 0;

  constructor(
    private readonly link: Link,
    readonly name: 'a' | 'b',
  ) {}

  /** This end can still write: not closed, not gone, not cut. */
  get isOpen(): boolean {
    return !this.gone && !this.closing && !this.link.cut;
  }

  attach(sink: LinkSink): void {
    this.sink = sink;
  }

  /**
   * ASCII text is its own UTF-8, so it travels as text: a write that arrives in one piece
   * reaches the peer as the string itself, exactly what the peer's decoder would have made
   * of its bytes (nothing is pending there between two whole writes, unless raw bytes ended
   * inside a character), without an encode and a decode per chunk.
   */
  write(text: string): void {
    const size = Buffer.byteLength(text, 'utf8');
    if (size === text.length && !this.wroteRaw) this.transmit(text, size, text);
    else this.transmit(Buffer.from(text, 'utf8'), size, text);
  }

  /** Raw bytes (a misbehaving peer may send invalid UTF-8, §4.9.3.22 unsupported-encoding). */
  writeBytes(bytes: Uint8Array): void {
    this.wroteRaw = true;
    this.transmit(bytes, bytes.length, Buffer.from(bytes).toString('utf8'));
  }

  /** Send `size` bytes (`data`, which reads as `text`) in fragments; a split needs the bytes. */
  private transmit(data: Uint8Array | string, size: number, text: string): void {
    if (this.gone || this.closing || this.link.cut) return;
    const { faults } = this.link;
    this.written += size;
    if (faults.writeFailAfter?.end === this.name && this.written > faults.writeFailAfter.bytes) {
      if (!this.writeFailedReported) {
        this.writeFailedReported = true;
        this.schedule(0, () => this.sink?.writeFailed('write failed (simulated)'));
      }
      return;
    }
    if (this.link.recordSegments) this.link.segments.push({ from: this.name, at: this.link.clock.now(), text, encrypted: this.encrypted });
    const peer = this.link.other(this);
    let bytes = typeof data === 'string' ? undefined : data;
    for (let off = 0; off < size; ) {
      const n = Math.min(size - off, this.link.rng.int(1, Math.max(1, faults.maxFragment)));
      const fragment = n === size ? data : (bytes ??= Buffer.from(text, 'utf8')).subarray(off, off + n);
      off += n;
      this.deliver(() => peer.arrive(fragment, n, this));
    }
  }

  startTls(): void {
    if (this.gone) return;
    this.tlsWanted = true;
    const peer = this.link.other(this);
    if (!peer.tlsWanted) return; // the other end has not started its handshake yet
    this.tlsWanted = peer.tlsWanted = false;
    const fails = this.link.faults.tlsFails === true || this.tlsFailsNext || peer.tlsFailsNext;
    for (const end of [this, peer]) {
      end.deliver(() => {
        if (end.gone) return;
        if (fails) {
          end.gone = true;
          end.sink?.tlsFailed('handshake failure (simulated)');
          if (this.link.faults.closeAfterTlsFailure) {
            end.goneAt = this.link.clock.now();
            end.sink?.closed('handshake failure (simulated)');
          }
        } else {
          end.encrypted = true;
          const presented = end.link.other(end).certificate;
          end.sink?.tlsEstablished(presented === undefined ? { peerVerified: true } : { peerVerified: presented.trusted, peerCertificate: presented });
        }
      });
    }
  }

  /** Virtual time at which this end asked to close (undefined: it never did). */
  closeCalledAt: number | undefined;
  /** Virtual time at which this end learnt the connection is gone. */
  goneAt: number | undefined;

  /** Our side closes: after what is in flight, the peer sees the connection end, then we do. */
  close(): void {
    if (this.closing || this.gone) return;
    this.closing = true;
    this.closeCalledAt = this.link.clock.now();
    const peer = this.link.other(this);
    this.deliver(() => {
      peer.terminate('peer closed');
      this.terminate('closed');
    });
  }

  /** DuplexTransport: abort without a closing handshake (an abrupt cut of the whole link); `closed` follows. */
  destroy(): void {
    this.link.sever('destroyed');
  }

  /** The peer end stops (or resumes) reading; unread bytes are handed over on resume. */
  setReading(reading: boolean): void {
    this.reading = reading;
    if (!reading) return;
    const pending = this.unread;
    this.unread = [];
    this.unreadBytes = 0;
    for (const chunk of pending) this.sink?.receive(chunk);
  }

  terminate(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    this.goneAt = this.link.clock.now();
    this.sink?.closed(reason);
  }

  /** `size`: the fragment's length in bytes. */
  private arrive(fragment: Uint8Array | string, size: number, from: LinkEnd): void {
    if (this.gone || this.link.cut) return;
    this.link.bytesCrossed += size;
    const cutAt = this.link.faults.cutAfterBytes;
    if (cutAt !== undefined && this.link.bytesCrossed > cutAt) {
      this.link.sever('connection reset (simulated)');
      return;
    }
    if (!this.reading) {
      this.unread.push(fragment);
      this.unreadBytes += size;
      if (this.unreadBytes > (this.link.faults.maxBuffered ?? 1 << 20)) from.sink?.writeFailed('peer is not reading (simulated)');
      return;
    }
    this.sink?.receive(fragment);
  }

  /** Deliveries from one end stay in order: each is scheduled no earlier than the previous. */
  private deliver(fn: () => void): void {
    const [lo, hi] = this.link.faults.delay;
    const at = Math.max(this.lastDeliveryAt, this.link.clock.now() + this.link.rng.int(lo, hi));
    this.lastDeliveryAt = at;
    this.link.clock.setTimeout(fn, at - this.link.clock.now());
  }

  private schedule(ms: number, fn: () => void): void {
    this.link.clock.setTimeout(fn, ms);
  }
}
