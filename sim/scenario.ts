/**
 * What one simulated run is: plain JSON, so a failing run is written to a file and replayed
 * (`xmppkit sim --replay FILE`). fast-check generates and shrinks these (sim/arbitraries.ts);
 * `seed` drives everything the scenario leaves open (fragment sizes, delays, nonces, stream
 * ids), so a scenario alone reproduces its run byte for byte.
 */
import type { KeepaliveMode, MechanismName, ResourceConflictPolicy, Timeouts } from '../machines/protocol.js';

/** Points of a client's script where it may stop or misbehave. */
export const PHASES = ['open', 'starttls', 'handshake', 'auth', 'challenge', 'bind', 'established', 'closing'] as const;
export type Phase = (typeof PHASES)[number];

/** How a silent or dead peer stops (§4.6): at a phase, one of these. */
export type StopMode =
  /** Stops writing; keeps reading and the socket open (§4.6.3 silent peer). */
  | 'silent'
  /** Stops reading, keeps the socket (writes toward it pile up, §4.6.1). */
  | 'stop-reading'
  /** The connection is cut abruptly (RST). */
  | 'cut'
  /** Closes the socket without a closing tag. */
  | 'socket-close';

/** Byte-level misbehaviour of a client, and where it may happen. */
export const MISBEHAVIOURS = {
  'stanza-before-auth': ['starttls', 'auth', 'bind'],
  'bad-stream-namespace': ['open'],
  'server-content-namespace': ['open'],
  'bad-stream-prefix': ['open'],
  'undeclared-prefix': ['open', 'starttls', 'auth', 'bind', 'established'],
  garbage: ['open', 'starttls', 'auth', 'bind', 'established'],
  'restricted-xml': ['open', 'starttls', 'auth', 'bind', 'established'],
  oversize: ['auth', 'bind', 'established'],
  'invalid-utf8': ['open', 'auth', 'established'],
  'second-auth': ['bind', 'established'],
  'bind-twice': ['established'],
  'data-after-close': ['established'],
  'wrong-password': ['auth'],
  abort: ['challenge'],
  'response-out-of-turn': ['auth'],
  'foreign-stanza': ['established'],
  'unknown-element': ['established'],
  'invalid-from': ['established'],
  'starttls-again': ['auth', 'established'],
  'auth-before-tls': ['starttls'],
  'abort-before-tls': ['starttls'],
  'response-before-tls': ['starttls'],
  'pipelined-after-starttls': ['starttls'],
  'header-mid-stream': ['auth', 'bind', 'established'],
  'stream-error': ['auth', 'bind', 'established'],
  'bad-bind': ['bind'],
} as const satisfies Record<string, readonly Phase[]>;
export type Misbehaviour = keyof typeof MISBEHAVIOURS;

/**
 * Misbehaviours the receiving entity must answer with a stream error (§4.9) whenever the
 * bytes reach it: malformed or restricted XML, wrong namespaces, stanzas out of order,
 * repeated negotiation, too many failed logins (§6.4.5). The others get element-level
 * answers (SASL `<failure/>`, TLS `<failure/>`) or end the stream normally.
 */
export const MUST_STREAM_ERROR: ReadonlySet<Misbehaviour> = new Set<Misbehaviour>([
  'stanza-before-auth', 'bad-stream-namespace', 'server-content-namespace', 'bad-stream-prefix', 'undeclared-prefix',
  'garbage', 'restricted-xml', 'oversize', 'invalid-utf8', 'second-auth', 'bind-twice', 'wrong-password',
  'foreign-stanza', 'unknown-element', 'invalid-from', 'header-mid-stream', 'bad-bind',
]);

/** What a conformant client sends once bound; each kind targets one routing case of §10. */
export const STANZA_KINDS = [
  'msg-peer', // message to another account's bare JID (§10.5.3.2)
  'msg-self', // message without 'to' (§10.3.1)
  'presence', // initial presence (§10.3.2)
  'ping-server', // IQ get to the domain (§10.5.1, XEP-0199)
  'ping-self', // IQ get to the own bare JID (§10.3.3)
  'iq-absent-bare', // IQ get to an absent user's bare JID (§10.5.3.1)
  'iq-absent-full', // ... and to a full JID of it (§10.5.4)
  'msg-absent-bare',
  'msg-absent-full',
  'iq-unknown', // IQ get with a payload nobody understands (§8.4 service-unavailable)
  'error-to-absent', // a message of type 'error' (§8.3.1: never answered)
  'msg-remote', // another domain (§10.4.3)
  'whitespace', // a whitespace keepalive between stanzas (§4.6.1), not a stanza
] as const;
export type StanzaKind = (typeof STANZA_KINDS)[number];

export interface StanzaStep {
  readonly kind: StanzaKind;
  /** Virtual ms after the previous step. */
  readonly gap: number;
}

/** How a conformant session ends after its stanzas. */
export type Ending = 'client-close' | 'server-close' | 'shutdown';

export interface LinkPlan {
  readonly maxFragment: number;
  readonly delay: readonly [number, number];
  readonly cutAfterBytes?: number;
  readonly tlsFails?: boolean;
  readonly serverWriteFailAfter?: number;
}

/** A client driven by a script (conformant unless `misbehave`/`stop` say otherwise). */
export interface ScriptedClientPlan {
  readonly kind: 'script';
  readonly user: 'alice' | 'bob' | 'carol';
  /** Preference order; the first one the server offers is used (§6.3.3). */
  readonly mechanisms: readonly MechanismName[];
  /** §6.4.2: the first SASL message inside `<auth/>`, or after an empty challenge. */
  readonly initialResponse: boolean;
  /** §7.7 client-submitted resourcepart, or §7.6 server-generated. */
  readonly resource?: string;
  readonly startAt: number;
  readonly stanzas: readonly StanzaStep[];
  /** Quiet time after the last stanza (may exceed the server's idle timeout: §4.6.3 ping). */
  readonly idle: number;
  readonly ending: Ending;
  readonly misbehave?: { readonly what: Misbehaviour; readonly at: Phase };
  readonly stop?: { readonly at: Phase; readonly how: StopMode };
  readonly link: LinkPlan;
}

/** The project's initiating-entity machine as the client (policy from the scenario). */
export interface MachineClientPlan {
  readonly kind: 'machine';
  readonly user: 'alice' | 'bob' | 'carol';
  readonly mechanisms: readonly MechanismName[];
  readonly initialResponse: boolean;
  readonly resource?: string;
  /** §5.3.1 client policy; 'required' when absent. */
  readonly tls?: 'required' | 'optional' | 'never';
  /** A password other than the account's (§6.4.5 failure); the account's when absent. */
  readonly password?: string;
  readonly keepalive: KeepaliveMode;
  readonly startAt: number;
  readonly stanzas: readonly StanzaStep[];
  readonly idle: number;
  readonly ending: Ending;
  readonly link: LinkPlan;
  /** Talk to a scripted server with this fault instead of the real server (sim/peers/server.ts). */
  readonly server?: import('./peers/server.js').ServerFault;
  readonly misbehave?: undefined;
  readonly stop?: undefined;
}

export type ClientPlan = ScriptedClientPlan | MachineClientPlan;

export interface ServerPlan {
  readonly tls: 'required' | 'optional' | 'none';
  readonly mechanisms: readonly MechanismName[];
  readonly allowPlainWithoutTls: boolean;
  readonly maxAuthAttempts: number;
  readonly resourceConflict: ResourceConflictPolicy;
  readonly keepalive: KeepaliveMode;
  readonly timeouts: Timeouts;
}

/** Something the server's operator or runtime does to every open session at a given time. */
export interface OperatorAction {
  readonly at: number;
  /** §4.9.3.20 shutdown, §4.4 close, or a runtime-requested stream error (§4.9.3). */
  readonly action: 'shutdown' | 'close' | 'see-other-host' | 'internal-server-error';
}

export interface Scenario {
  readonly name: string;
  readonly seed: number;
  readonly server: ServerPlan;
  readonly operator?: OperatorAction;
  readonly clients: readonly ClientPlan[];
}
