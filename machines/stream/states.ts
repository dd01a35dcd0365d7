/**
 * The parts of the stream statechart that are the same rule of RFC 6120 for the initiating
 * and the receiving entity: losing the transport (§4.6.1), the TLS handshake's silence
 * (§5.4.3), liveness (§4.6) and closing (§4.4). Each machine places these fragments where
 * they apply; every transition keeps its `meta.rfc` here. `peer` names the other side in
 * descriptions ('server' for the client machine, 'peer' for the server machine).
 */
import { and } from 'xstate';
import type { StreamErrorCondition } from '../conditions.js';
import { outcome } from './outcome.js';

export type Peer = 'server' | 'peer';

/** In `open`: the socket is gone or dead; nothing more can be written (§4.6.1). */
export const transportLost = {
  SOCKET_CLOSED: {
    target: 'closed',
    actions: { type: 'recordOutcome', params: outcome('transport', '6120 §4.6.1') },
    meta: { rfc: '6120 §4.6.1' },
    description: 'TCP is gone: nothing can be written any more.',
  },
  WRITE_FAILED: {
    target: 'closed',
    actions: ['closeSocket', { type: 'recordOutcome', params: outcome('transport', '6120 §4.6.1') }],
    meta: { rfc: '6120 §4.6.1' },
    description: 'Dead connection: close TCP without a stream error.',
  },
} as const;

/**
 * In `open`: the transport is gone (transportLost), or the TLS layer failed (§5.4.3.2):
 * terminate TCP with no closing tag. `tlsOutcome`: the outcome to record (a side may keep the
 * TLS layer's reason in it).
 */
export function connectionLost<const Params>(tlsOutcome: Params) {
  return {
    ...transportLost,
    TLS_FAILED: {
      target: 'closed',
      actions: ['closeSocket', { type: 'recordOutcome', params: tlsOutcome }],
      meta: { rfc: '6120 §5.4.3.2' },
      description: 'The TLS layer failed: terminate TCP, no closing tag.',
    },
  } as const;
}

/** The stream error the XML layer chose (§11), with its text when it gave one. */
const conditionOfEvent = ({ event }: { event: { condition: StreamErrorCondition; text?: string } }) => ({
  condition: event.condition,
  ...(event.text !== undefined ? { text: event.text } : {}),
});

/** What each side says in its own words about the rules of `streamRules`. */
interface StreamRuleWords {
  /** Appended to the PARSE_ERROR description (e.g. what this side's XML layer never raises). */
  readonly parseErrorNote?: string;
  /** Why a header where no restart is due is bad-format on this side. */
  readonly unexpectedHeader: string;
}

/**
 * In `open`, for either side: the other side closed first (§4.4 step 4), the XML layer
 * rejected its bytes (§11 → §4.9.3), or it sent a stream header where no restart is due.
 */
export function streamRules(peer: Peer, words: StreamRuleWords) {
  return {
    STREAM_CLOSE: {
      target: 'closed',
      actions: 'answerClose',
      meta: { rfc: '6120 §4.4' },
      description: `The ${peer} closed first: answer with our closing tag and close TCP.`,
    },
    PARSE_ERROR: {
      target: 'closing',
      actions: { type: 'streamError', params: conditionOfEvent },
      meta: { rfc: '6120 §4.9.3, §4.9.3.1, §4.9.3.2, §4.9.3.10, §4.9.3.13, §4.9.3.14, §4.9.3.18, §4.9.3.22' },
      description: `The XML layer rejected the input (§11): bad-format, bad-namespace-prefix, invalid-namespace, not-well-formed, policy-violation (size limits), restricted-xml or unsupported-encoding.${words.parseErrorNote ?? ''}`,
    },
    HEADER: {
      target: 'closing',
      actions: { type: 'streamError', params: { condition: 'bad-format', text: 'unexpected stream header' } },
      meta: { rfc: '6120 §4.9.3.1' },
      description: words.unexpectedHeader,
    },
  } as const;
}

/**
 * In `open`, at a receiving entity or receiving server: what ends the stream in any phase.
 * The transport (§4.6.1, §5.4.3.2), the peer (streamRules), the operator's shutdown
 * (§4.9.3.20) or stream error (FAIL), and our own close (§4.4).
 */
export function receivingOpenRules(closeDescription: string) {
  return {
    ...connectionLost(outcome('tls-failed', '6120 §5.4.3.2')), // §4.6.1 SOCKET_CLOSED, WRITE_FAILED; §5.4.3.2 TLS_FAILED
    ...streamRules('peer', {
      parseErrorNote: ' (runtime/xml validates no schema, so it never raises invalid-xml, §4.9.3.11.)',
      unexpectedHeader: 'A stream header where no restart is due: XML that cannot be processed here.',
    }), // §4.4 step 4, §4.9.3 from §11, §4.9.3.1: STREAM_CLOSE, PARSE_ERROR, HEADER
    SHUTDOWN: {
      target: 'closing',
      actions: { type: 'streamError', params: { condition: 'system-shutdown' } },
      meta: { rfc: '6120 §4.9.3.20' },
    },
    FAIL: {
      target: 'closing',
      actions: { type: 'streamError', params: conditionOfEvent },
      meta: { rfc: '6120 §4.9.3, §4.9.3.5, §4.9.3.8, §4.9.3.15, §4.9.3.16, §4.9.3.17, §4.9.3.19, §4.9.3.21' },
      description:
        'Operator or runtime asks for a stream error: host-gone, internal-server-error, remote-connection-failed, reset, resource-constraint, see-other-host (the host as character data), undefined-condition.',
    },
    CLOSE: gracefulClose(closeDescription),
  } as const;
}

/**
 * An element the current state does not accept: the stream error that the machine's own
 * `unexpectedElementError` picks for it (§4.9.3.24 unsupported-stanza-type, §4.9.3.12
 * not-authorized, §4.9.3.10 invalid-namespace, as the cited sections say per machine).
 */
export function unexpectedElement<const Target extends string, const Params>(target: Target, params: Params, rfc: string, description: string) {
  return { target, actions: { type: 'streamError', params }, meta: { rfc }, description } as const;
}

/**
 * The initiating side's STARTTLS exchange (§5.4.2, §5.4.3): `<starttls/>` is sent, then
 * `<proceed/>` starts the handshake or `<failure/>` ends the stream; during the handshake no
 * XML either way. `established`: the machine's TLS_ESTABLISHED (what TLS being on means for
 * it); `during`: handshake events of its own. `peer` names the other side in the texts.
 */
export function initiatingTlsNegotiation<const Id extends string, const Established, const During = {}>(
  machineId: Id,
  peer: { readonly refused: string; readonly closes: string },
  established: Established,
  during: During = {} as During,
) {
  return {
    meta: { rfc: '6120 §5', summary: 'STARTTLS: command sent, then the TLS handshake' },
    initial: 'requested',
    states: {
      requested: {
        meta: { rfc: '6120 §5.4.2.1', summary: '<starttls/> sent; waiting for <proceed/> or <failure/>' },
        on: {
          ELEMENT: [
            {
              guard: 'isProceed',
              target: 'handshake',
              actions: 'startTls',
              meta: { rfc: '6120 §5.4.2.3' },
              description: 'Proceed: start the TLS handshake over the TCP connection.',
            },
            {
              guard: 'isTlsFailure',
              target: `#${machineId}.closing`,
              actions: { type: 'closeGracefully', params: outcome('tls-failed', '6120 §5.4.2.2', 'failure', `${peer.refused} refused STARTTLS`) },
              meta: { rfc: '6120 §5.4.2.2' },
              description: `Failure: ${peer.closes} closes its stream and TCP; we answer with our closing tag (§4.4) and wait for it.`,
            },
          ],
        },
      },
      handshake: {
        meta: { rfc: '6120 §5.4.3', summary: 'TLS handshake running; no XML either way (§5.4.3.1)' },
        on: {
          TLS_ESTABLISHED: established,
          TLS_FAILED: {
            target: `#${machineId}.closed`,
            actions: ['closeSocket', { type: 'recordOutcome', params: ({ event }: { event: { reason: string } }) => outcome('tls-failed', '6120 §5.4.3.2', undefined, event.reason) }],
            meta: { rfc: '6120 §5.4.3.2' },
            description: 'Handshake failed: terminate TCP without a closing stream tag.',
          },
          CLOSE: {
            target: `#${machineId}.closed`,
            actions: ['closeSocket', { type: 'recordOutcome', params: outcome('closed', '6120 §5.4.3.1') }],
            meta: { rfc: '6120 §5.4.3.1' },
            description: 'No XML may be sent until TLS completes: just close TCP.',
          },
          ...during,
          ...plaintextIgnored('<proceed/>'), // §5.4.3.3: ELEMENT, HEADER, STREAM_CLOSE, PARSE_ERROR
        },
      },
    },
  } as const;
}

/** In `open`: this side ends the stream (§4.4): our closing tag, then wait for the other's. */
export function gracefulClose(description: string) {
  return { target: 'closing', actions: 'closeGracefully', meta: { rfc: '6120 §4.4' }, description } as const;
}

/** In `negotiating`, first under negotiationTimeout: no XML may be sent during the TLS handshake (§5.4.3.1). */
export function tlsHandshakeTimeout<const Id extends string>(machineId: Id) {
  return {
    guard: 'inTlsHandshake',
    target: `#${machineId}.closed`,
    actions: ['closeSocket', { type: 'recordOutcome', params: outcome('timeout', '6120 §5.4.3.1', 'connection-timeout') }],
    meta: { rfc: '6120 §5.4.3.1' },
    description: 'No XML may be sent during the TLS handshake: just close TCP.',
  } as const;
}

/**
 * `negotiating`'s negotiationTimeout (§4.6.2): silent during the TLS handshake (§5.4.3.1),
 * else a connection-timeout stream error (§4.9.3.4). `params`: that stream error's.
 */
export function negotiationTimeouts<const Id extends string, const Params>(machineId: Id, params: Params, description: string) {
  return [
    tlsHandshakeTimeout(machineId),
    {
      target: `#${machineId}.closing`,
      actions: { type: 'streamError', params },
      meta: { rfc: '6120 §4.6.2, §4.9.3.4' },
      description,
    },
  ] as const;
}

/** An ELEMENT entry: the other side sent a stream error and closed its stream (§4.9.1.1). */
export function peerStreamError<const Target extends string>(target: Target, rfc: string, description: string) {
  return { guard: 'isStreamError', target, actions: 'answerStreamError', meta: { rfc }, description } as const;
}

/** An ELEMENT entry in `established`: the answer to our ping proves the stream alive and is consumed (XEP-0199, §4.6.3). */
export function pingReplyConsumed(rfc: string, description: string) {
  return { guard: and(['isStanza', 'isPingReply']), actions: 'consumePingReply', meta: { rfc }, description } as const;
}

/** In the TLS handshake state: plaintext after the STARTTLS exchange (`command`) is never processed (§5.4.3.3). */
export function plaintextIgnored(command: '<proceed/>' | '<starttls/>', elementNote = '') {
  const ignored = { meta: { rfc: '6120 §5.4.3.3' }, description: `Plaintext after ${command} is never processed.` } as const;
  return {
    ELEMENT: { meta: { rfc: '6120 §5.4.3.3' }, description: `Plaintext after ${command} is never processed${elementNote}.` },
    HEADER: ignored,
    STREAM_CLOSE: ignored,
    PARSE_ERROR: ignored,
  } as const;
}

/**
 * The receiving side's TLS handshake state (§5.4.3): `<proceed/>` is sent, the handshake
 * runs, and no XML may be written until it completes (§5.4.3.1), so every way out but
 * success closes TCP without a closing tag. `established`: the TLS_ESTABLISHED transition
 * (the restart, §5.4.3.3), which each machine completes with what it learns from TLS.
 */
export function receivingTlsHandshake<const Id extends string, const Established>(machineId: Id, established: Established) {
  const closed = `#${machineId}.closed` as const;
  return {
    meta: { rfc: '6120 §5.4.3', summary: '<proceed/> sent; the TLS handshake runs; no XML either way (§5.4.3.1 rule 1)' },
    on: {
      TLS_ESTABLISHED: established,
      TLS_FAILED: {
        target: closed,
        actions: ['closeSocket', { type: 'recordOutcome', params: outcome('tls-failed', '6120 §5.4.3.2') }],
        meta: { rfc: '6120 §5.4.3.2' },
        description: 'Terminate TCP without a closing stream tag.',
      },
      SHUTDOWN: {
        target: closed,
        actions: ['closeSocket', { type: 'recordOutcome', params: outcome('error-sent', '6120 §5.4.3.1', 'system-shutdown') }],
        meta: { rfc: '6120 §5.4.3.1' },
        description: 'No XML may be sent until TLS completes: just close TCP.',
      },
      FAIL: {
        target: closed,
        actions: ['closeSocket', { type: 'recordOutcome', params: ({ event }: { event: { condition: StreamErrorCondition } }) => outcome('error-sent', '6120 §5.4.3.1', event.condition) }],
        meta: { rfc: '6120 §5.4.3.1' },
        description: 'No XML may be sent until TLS completes: just close TCP.',
      },
      CLOSE: {
        target: closed,
        actions: ['closeSocket', { type: 'recordOutcome', params: outcome('closed', '6120 §5.4.3.1') }],
        meta: { rfc: '6120 §5.4.3.1' },
        description: 'No XML may be sent until TLS completes: just close TCP.',
      },
      ...plaintextIgnored('<starttls/>', ' (command injection)'), // §5.4.3.3: ELEMENT, HEADER, STREAM_CLOSE, PARSE_ERROR
    },
  } as const;
}

/** What differs between the two sides' liveness checks: how to probe, and what an answer means. */
interface LivenessChoices<Ping, Timeout, Answers = {}> {
  /** idleTimeout in ping mode (XEP-0199): the probe. */
  readonly ping: Ping;
  /** Description of "any element" while pinging (§4.6.2). */
  readonly answered: string;
  /** pingTimeout: the stream is broken (§4.6.2, §4.9.3.4). */
  readonly pingTimeout: Timeout;
  /**
   * More events that answer the probe while pinging, for a side whose ping is answered
   * elsewhere than on this stream (a receiving server pings over its outgoing stream).
   */
  readonly answeredBy?: Answers;
}

/** The `liveness` region of `established` (§4.6): idle detection, then a probe. */
export function livenessRegion<const Ping, const Timeout, const Answers = {}>(choices: LivenessChoices<Ping, Timeout, Answers>) {
  return {
    meta: { rfc: '6120 §4.6', summary: 'Silent peers: idle detection and probing' },
    initial: 'idle',
    states: {
      idle: {
        meta: { rfc: '6120 §4.6.3', summary: 'Traffic seen recently' },
        on: {
          ELEMENT: { target: 'idle', reenter: true, meta: { rfc: '6120 §4.6.3' }, description: 'Traffic restarts the idle timer.' },
          KEEPALIVE: { target: 'idle', reenter: true, meta: { rfc: '6120 §4.6.1' }, description: 'A whitespace keepalive is traffic too.' },
        },
        after: {
          idleTimeout: [
            choices.ping,
            {
              target: 'idle',
              reenter: true,
              actions: 'sendWhitespace',
              meta: { rfc: '6120 §4.6.1' },
              description: 'Whitespace keepalive: a dead TCP connection shows up as WRITE_FAILED / SOCKET_CLOSED.',
            },
          ],
        },
      },
      pinging: {
        meta: { rfc: '6120 §4.6.2', summary: 'Ping sent; waiting for any traffic' },
        on: {
          ELEMENT: { target: 'idle', meta: { rfc: '6120 §4.6.2' }, description: choices.answered },
          KEEPALIVE: { target: 'idle', meta: { rfc: '6120 §4.6.2' } },
          ...(choices.answeredBy as Answers),
        },
        after: { pingTimeout: choices.pingTimeout },
      },
    },
  } as const;
}

/** What differs in `established`: what the stanza region does, and the liveness choices. */
interface EstablishedParts<On, Ping, Timeout, Answers> {
  /** Summary of `exchanging`. */
  readonly exchanging: string;
  /** `exchanging`'s handlers. */
  readonly on: On;
  readonly liveness: LivenessChoices<Ping, Timeout, Answers>;
}

/**
 * `established` (§4.3.5): negotiation is complete; stanzas flow in one region while the
 * liveness region (§4.6) watches for silence beside it.
 */
export function establishedState<const On, const Ping, const Timeout, const Answers = {}>(parts: EstablishedParts<On, Ping, Timeout, Answers>) {
  return {
    meta: { rfc: '6120 §4.3.5', summary: 'Negotiation complete: stanza exchange, with liveness checks alongside (§4.6)' },
    type: 'parallel',
    states: {
      // Listed first on purpose: when an element ends the stream, this region's transition
      // wins over the liveness region's reset (XState resolves conflicts in document order).
      stanzas: {
        meta: { rfc: '6120 §8', summary: 'Stanzas in both directions' },
        initial: 'exchanging',
        states: {
          exchanging: { meta: { rfc: '6120 §8', summary: parts.exchanging }, on: parts.on },
        },
      },
      // §4.6: idle → (whitespace keepalive | ping) → pinging → idle, or a connection-timeout stream error.
      liveness: livenessRegion(parts.liveness),
    },
  } as const;
}

/**
 * `closing` (§4.4): our closing tag is sent. `element` is what rule 2 still processes from
 * the other side, which differs per side.
 */
export function closingState<const Element>(peer: Peer, element: Element) {
  return {
    meta: { rfc: '6120 §4.4', summary: `Our closing tag is sent; waiting for the ${peer}'s (rule 1), sending nothing more (rule 2)` },
    on: {
      STREAM_CLOSE: {
        target: 'closed',
        actions: 'closeSocket',
        meta: { rfc: '6120 §4.4' },
        description: 'Step 4: the reciprocal closing tag arrived; terminate TCP.',
      },
      SOCKET_CLOSED: { target: 'closed', meta: { rfc: '6120 §4.4' }, description: `The ${peer} closed TCP.` },
      WRITE_FAILED: { target: 'closed', actions: 'closeSocket', meta: { rfc: '6120 §4.6.1' } },
      TLS_FAILED: { target: 'closed', actions: 'closeSocket', meta: { rfc: '6120 §5.4.3.2' } },
      ELEMENT: element,
    },
    after: {
      closeTimeout: {
        target: 'closed',
        actions: 'closeSocket',
        meta: { rfc: '6120 §4.4' },
        description: 'Rule 3: no closing tag within a reasonable time; terminate TCP anyway.',
      },
    },
  } as const;
}

/** `closed` (§4.4): final; the machine reports its outcome once. */
export const closedState = {
  meta: { rfc: '6120 §4.4', summary: 'The stream and the TCP connection are gone' },
  type: 'final',
  entry: 'emitEnded',
} as const;
