/**
 * Types of the receiving entity (server side of a client-to-server stream, RFC 6120 §4-§7).
 *
 * The context is small and bounded (graph traversal serializes it): flags, counters bounded
 * by policy, the SASL exchange state of the one handshake in progress, and the one pending
 * bind request. No stanzas, no growing lists.
 */
import type {
  ReceivingEntityInput,
  ServerStreamEvent,
  StreamHeader,
  StreamOutcome,
} from '../protocol.js';
import type { SaslState } from '../sasl/api.js';
import type { SaslFailureCondition } from '../conditions.js';

/** The contract's events: FAIL (operator- or runtime-requested stream error) is one of them. */
export type ReceivingEntityEvent = ServerStreamEvent;
export type { FailEvent } from '../protocol.js';

/** The contract's input, unchanged (maxBindAttempts defaults in ./bind.ts). */
export type ReceivingEntityMachineInput = ReceivingEntityInput;

/** One SASL step as it sits in context: the ServerStep with its bytes base64-encoded (JSON-safe). */
export type PendingSaslStep =
  | { readonly kind: 'lookup'; readonly username: string; readonly authzid?: string; readonly state: SaslState }
  | { readonly kind: 'challenge'; readonly data: string; readonly state: SaslState }
  | { readonly kind: 'success'; readonly username: string; readonly authzid?: string; readonly additionalData?: string }
  | { readonly kind: 'failure'; readonly condition: SaslFailureCondition; readonly text?: string };

/** The bind request being answered (§7.6 / §7.7): only one at a time. */
export interface PendingBind {
  /** 'id' of the client's IQ, echoed in the result or error (§8.2.3). */
  readonly iqId?: string;
  readonly resource: string;
  /** True when the resourcepart came from the client (§7.7), false when we generated it (§7.6). */
  readonly submitted: boolean;
  /** How many server-generated resourceparts were found in use for this request. */
  readonly regenerations: number;
}

/** The decision about a RESOURCE_STATUS answer (§7.6.2, §7.7.2.2). */
export type BindDecision =
  | { readonly kind: 'bind'; readonly resource: string; readonly replace: boolean }
  | { readonly kind: 'regenerate' }
  | { readonly kind: 'error'; readonly condition: 'conflict' | 'resource-constraint' | 'not-allowed' | 'internal-server-error' };

export interface ReceivingEntityContext {
  readonly input: ReceivingEntityMachineInput;
  /** The current initial stream header (§4.7), forgotten on every restart (§4.3.3, §5.4.3.3 rule 2). */
  readonly peer: StreamHeader | undefined;
  /** Our response header for the current stream was written. */
  readonly headerSent: boolean;
  readonly streamId: string | undefined;
  /** TLS is on (§5.4.3.3) or the transport was encrypted from the start. */
  readonly secured: boolean;
  /** SASL succeeded (§6.4.6): the simple user name, prepared as a localpart (§6.3.7). */
  readonly username: string | undefined;
  readonly authenticated: boolean;
  /** SASL `<failure/>`s sent so far (§6.4.5), at most input.maxAuthAttempts. */
  readonly authFailures: number;
  /** Bind errors sent so far (§7.7.3), at most maxBindAttempts. */
  readonly bindFailures: number;
  /** The SASL exchange in progress (§6.4.2-§6.4.3). */
  readonly sasl: SaslState | undefined;
  /** The user name whose credentials we asked for; CREDENTIALS for another name are stale. */
  readonly lookupUsername: string | undefined;
  /** The last step of the SASL exchange, dispatched by saslNegotiation.evaluating. */
  readonly saslStep: PendingSaslStep | undefined;
  readonly pendingBind: PendingBind | undefined;
  /** The full JID of the connected resource (§7.6.1 / §7.7.1), once bound. */
  readonly boundJid: string | undefined;
  /** 'id' of our outstanding XEP-0199 ping. */
  readonly pingId: string | undefined;
  readonly outcome: StreamOutcome | undefined;
}
