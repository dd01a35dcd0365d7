/**
 * The connection lifecycle's boundary (./machine.ts): what a client runtime tells it, and
 * what it asks the runtime to do. One lifecycle outlives many streams: each stream is an
 * initiating entity machine (../initiating) that the runtime starts on `connect` and whose
 * end it reports as `ENDED`.
 */
import type { StreamOutcome } from '../protocol.js';
import type { XmlElement } from '../xml.js';
import type { ResolvedBackoff } from './backoff.js';

/** A TCP endpoint: the configured host (§3.2 fallback), or a §4.9.3.19 redirect target. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ConnectionInput {
  /** Where the first connection goes, and every reconnection after an outage (§3.3). */
  readonly home: Endpoint;
  /** §3.3 reconnection; undefined: none, the client stays offline after the first failure. */
  readonly reconnect: ResolvedBackoff | undefined;
  /** Stanzas held while not online (§4.3.5); one more is refused. */
  readonly maxQueued: number;
  /** Uniform in [0, 1): the back-off's randomness (the simulator seeds it). */
  readonly random: () => number;
}

export type ConnectionEvent =
  /** The application wants to be online. */
  | { readonly type: 'START' }
  /** The application is done: close gracefully (§4.4), never reconnect. */
  | { readonly type: 'STOP' }
  /** The application sends a stanza (queued until online, §4.3.5). */
  | { readonly type: 'SEND'; readonly stanza: XmlElement }
  /** The TCP connection is up; the stream machine runs on it (§4.2). */
  | { readonly type: 'CONNECTED' }
  /** The stream machine bound a resource (§7.6.1): stanzas may flow. */
  | { readonly type: 'ONLINE'; readonly jid: string }
  /**
   * The stream (or the TCP connection attempt, §3) ended. `redirect`: the endpoint a
   * `<see-other-host/>` names (§4.9.3.19), parsed by the runtime from the error's text.
   */
  | { readonly type: 'ENDED'; readonly outcome: StreamOutcome; readonly redirect?: Endpoint };

/** Why the lifecycle stopped: the application asked, or §3.3 gave up (or was not wanted). */
export type StopReason = 'stopped' | 'gave-up';

export type ConnectionCommand =
  /** Open a TCP connection there and run a new stream on it. */
  | { readonly type: 'connect'; readonly host: string; readonly port: number }
  /** Abandon the TCP connection attempt in progress (no stream yet, nothing to close). */
  | { readonly type: 'abort' }
  /** Ask the stream machine to close gracefully (its CLOSE event, §4.4). */
  | { readonly type: 'closeStream' }
  /** Hand a stanza to the stream machine (its SEND event). */
  | { readonly type: 'write'; readonly stanza: XmlElement }
  | { readonly type: 'online'; readonly jid: string }
  /** A stream ended (announced once per stream). */
  | { readonly type: 'offline'; readonly outcome: StreamOutcome }
  /** It ended in a failure: anything but a clean close without a condition. */
  | { readonly type: 'failed'; readonly outcome: StreamOutcome }
  | { readonly type: 'redirected'; readonly host: string; readonly port: number; readonly count: number }
  | { readonly type: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly after: StreamOutcome }
  /** Final: no stream and none to come. `outcome`: the last stream's, if there was one. */
  | { readonly type: 'stopped'; readonly reason: StopReason; readonly outcome: StreamOutcome | undefined };

export interface ConnectionContext {
  readonly input: ConnectionInput;
  /** Where the next (or current) connection goes. */
  readonly target: Endpoint;
  /** Successive redirects followed (§4.9.3.19 asks for a limit). */
  readonly redirects: number;
  /** Reconnection attempts since the last time the client was online (§3.3). */
  readonly attempts: number;
  /** The delay chosen for the pending reconnection, in ms. */
  readonly retryDelayMs: number;
  /** Stanzas waiting for `online`; at most input.maxQueued. */
  readonly queue: readonly XmlElement[];
  readonly lastOutcome: StreamOutcome | undefined;
}
