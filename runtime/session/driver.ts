/**
 * The session driver: the imperative shell around one stream machine.
 *
 * It turns bytes, TLS results, socket ends and host answers into machine events, and
 * the machine's commands into bytes and transport calls. It knows nothing of `net`:
 * a `Transport` is anything that can write text, upgrade to TLS and close, so the same
 * driver runs over a TCP socket in the runtime and over an in-memory link in the
 * simulator. All protocol decisions stay in the machine.
 */
import { createActor, type Actor, type AnyStateMachine, type EventFromLogic, type InputFrom, type InspectionEvent } from 'xstate';
import type { Command, StreamOutcome, TransportEvent } from '../../machines/protocol.js';
import { StreamParser, type ParserEvent, type StreamParserOptions } from '../xml/parser.js';
import { serializeElement, serializeHeader, STREAM_CLOSE_TAG } from '../xml/serialize.js';

/** XState's timer interface (not exported by xstate's index): real timers, or the simulator's virtual clock. */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

/** What the driver needs from a byte stream. */
export interface Transport {
  /** Queue text for writing. A failure is reported back with `driver.writeFailed()`. */
  write(text: string): void;
  /** Start a TLS handshake (RFC 6120 §5.4.3); report with `driver.tlsEstablished()` / `driver.tlsFailed()`. */
  startTls(): void;
  /** Flush and close the connection; report with `driver.closed()` once it is gone. */
  close(): void;
}

/**
 * A Transport that also reports to a sink and can be aborted: what a host builds a stream on
 * when it owns the connection (SocketTransport on TCP, the simulator's LinkEnd in memory).
 */
export interface DuplexTransport extends Transport {
  /** Start delivering to `sink` (bytes, TLS results, the end of the connection). */
  attach(sink: TransportSink): void;
  /** Abort without a closing handshake; `closed` follows. */
  destroy(): void;
}

/** One machine transition, as the inspector saw it: for traces, the teaching CLI and coverage. */
export interface TransitionTrace {
  readonly event: string;
  readonly source: string;
  readonly targets: readonly string[];
  readonly rfc?: string;
}

/**
 * A machine the driver can run: it must accept every event the driver itself sends (the
 * parser's and the transport's, `TransportEvent`). A machine that does not gets a compile
 * error naming what is missing.
 */
export type StreamMachine<M extends AnyStateMachine> = [TransportEvent] extends [EventFromLogic<M>]
  ? M
  : M & { readonly 'machine must accept every TransportEvent': Exclude<TransportEvent, EventFromLogic<M>>['type'] };

export interface SessionDriverOptions<M extends AnyStateMachine = AnyStateMachine> {
  /** `receivingEntityMachine` or `initiatingEntityMachine` (or a variant made with `.provide`). */
  readonly machine: StreamMachine<M>;
  /** The machine's own input type (`ReceivingEntityInput`, `InitiatingEntityInput`). */
  readonly input: InputFrom<M>;
  readonly transport: Transport;
  readonly parser?: StreamParserOptions;
  /** §4.8.2 content namespace written as the default namespace of our stream. */
  readonly contentNamespace?: string;
  /** Timer source for the machine's delays; a SimulatedClock under the simulator. */
  readonly clock?: Clock;
  /** Commands that concern the host, not the transport: lookupCredentials, queryResource, bound, deliver, online, authenticated, ended. */
  readonly onCommand?: (command: Command) => void;
  readonly onTransition?: (t: TransitionTrace) => void;
  /** Every chunk written and read, for traces and the teaching CLI. */
  readonly onWire?: (direction: 'in' | 'out', text: string) => void;
}

/** What a finished TLS handshake tells the machine (TLS_ESTABLISHED). */
export type TlsInfo = Omit<import('../../machines/protocol.js').TlsEstablishedEvent, 'type'>;

/** What a transport calls back on (SocketTransport, the simulator's link): any driver fits. */
export interface TransportSink {
  receive(chunk: Uint8Array | string): void;
  tlsEstablished(info?: TlsInfo): void;
  tlsFailed(reason: string): void;
  writeFailed(reason?: string): void;
  closed(reason?: string): void;
}

/**
 * `sink` with a host's own hooks: `tlsEstablished` sees the handshake's result before the
 * machine does (for a log line), `closed` runs once the machine heard the connection is gone.
 */
export function observedSink(
  sink: TransportSink,
  hooks: { readonly tlsEstablished?: (info: TlsInfo) => void; readonly closed?: (reason?: string) => void },
): TransportSink {
  return {
    receive: (chunk) => sink.receive(chunk),
    tlsEstablished: (info = {}) => {
      hooks.tlsEstablished?.(info);
      sink.tlsEstablished(info);
    },
    tlsFailed: (reason) => sink.tlsFailed(reason),
    writeFailed: (reason) => sink.writeFailed(reason),
    closed: (reason) => {
      sink.closed(reason);
      hooks.closed?.(reason);
    },
  };
}

/**
 * Generic over its machine: `send` takes only that machine's events and `input` only its
 * input, so a misspelt event or a server policy handed to the client does not compile.
 */
export class SessionDriver<M extends AnyStateMachine = AnyStateMachine> implements TransportSink {
  readonly actor: Actor<M>;
  private readonly parser: StreamParser;
  private readonly transport: Transport;
  private readonly contentNamespace: string;
  private readonly opts: SessionDriverOptions<M>;
  /** Set while `receive` dispatches parser events, so a restart can resume the rest of the input. */
  private dispatching = false;
  private resetRequested = false;
  private tlsRequested = false;
  private socketClosing = false;
  private finished: StreamOutcome | undefined;

  constructor(opts: SessionDriverOptions<M>) {
    this.opts = opts;
    this.transport = opts.transport;
    this.contentNamespace = opts.contentNamespace ?? 'jabber:client';
    this.parser = new StreamParser(opts.parser);
    this.actor = createActor(opts.machine as M, {
      input: opts.input,
      ...(opts.clock ? { clock: opts.clock as never } : {}),
      ...(opts.onTransition ? { inspect: (e: InspectionEvent) => this.inspect(e) } : {}),
    });
    this.actor.on('*', (command: Command) => this.perform(command));
  }

  /** Start the machine (the initiating entity writes its stream header now, §4.2). */
  start(): this {
    this.actor.start();
    return this;
  }

  /** The stream's outcome once the machine reached its final state. */
  get outcome(): StreamOutcome | undefined {
    return this.finished;
  }

  /** Host or application events of this machine: ROUTE_IN, SEND, CLOSE, SHUTDOWN, FAIL, CREDENTIALS, RESOURCE_STATUS, ... */
  send(event: EventFromLogic<M>): void {
    if (!this.finished) this.actor.send(event);
  }

  /** The driver's own events (parser, TLS, socket): every stream machine accepts them (StreamMachine). */
  private sendTransport(event: TransportEvent): void {
    this.send(event as EventFromLogic<M>);
  }

  /** Bytes from the peer. */
  receive(chunk: Uint8Array | string): void {
    if (this.finished || this.socketClosing) return;
    if (this.opts.onWire) this.opts.onWire('in', typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    this.dispatch(this.parser.write(chunk));
  }

  tlsEstablished(info: TlsInfo = {}): void {
    this.tlsRequested = false;
    this.sendTransport({ type: 'TLS_ESTABLISHED', ...info });
  }

  tlsFailed(reason: string): void {
    this.tlsRequested = false;
    this.sendTransport({ type: 'TLS_FAILED', reason });
  }

  writeFailed(reason?: string): void {
    this.sendTransport({ type: 'WRITE_FAILED', reason });
  }

  /** The connection is gone (peer FIN/RST or our close completed). */
  closed(reason?: string): void {
    this.sendTransport({ type: 'SOCKET_CLOSED', reason });
  }

  private dispatch(events: ParserEvent[]): void {
    this.dispatching = true;
    try {
      for (let i = 0; i < events.length && !this.finished; i++) {
        const event = events[i]!;
        this.actor.send(event as EventFromLogic<M>);
        if (this.tlsRequested) {
          // RFC 6120 §5.4.3.3: whatever plaintext followed <starttls/> in the same read is
          // discarded, never parsed as part of the TLS-protected stream (command injection).
          this.parser.reset();
          return;
        }
        if (this.resetRequested) {
          // §4.3.3: the peer may have pipelined its new stream header behind the element
          // that caused the restart; re-parse what followed that element as a new stream.
          this.resetRequested = false;
          events = this.parser.reset(event);
          i = -1;
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private perform(command: Command): void {
    switch (command.type) {
      case 'openStream':
        this.write(serializeHeader(command.header));
        return;
      case 'send':
        this.write(serializeElement(command.element, this.contentNamespace));
        return;
      case 'sendWhitespace':
        this.write(' ');
        return;
      case 'closeStream':
        this.write(STREAM_CLOSE_TAG);
        return;
      case 'startTls':
        this.tlsRequested = true;
        if (!this.dispatching) this.parser.reset();
        this.transport.startTls();
        return;
      case 'resetParser':
        if (this.dispatching) this.resetRequested = true;
        else this.parser.reset();
        return;
      case 'closeSocket':
        if (!this.socketClosing) {
          this.socketClosing = true;
          this.transport.close();
        }
        return;
      case 'ended':
        this.finished = command.outcome;
        this.opts.onCommand?.(command);
        return;
      default:
        this.opts.onCommand?.(command);
    }
  }

  private write(text: string): void {
    if (this.socketClosing) return;
    this.opts.onWire?.('out', text);
    this.transport.write(text);
  }

  private inspect(e: InspectionEvent): void {
    if (e.type !== '@xstate.microstep' || e.actorRef !== this.actor) return;
    for (const t of e._transitions) {
      this.opts.onTransition?.({
        event: t.eventType,
        source: t.source.id,
        targets: (t.target ?? []).map((s) => s.id),
        rfc: (t.meta as { rfc?: string } | undefined)?.rfc,
      });
    }
  }
}
