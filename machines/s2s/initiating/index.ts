/**
 * The initiating server of a server-to-server stream (RFC 6120 §4-§6, §8 on 'jabber:server',
 * XEP-0178 SASL EXTERNAL, XEP-0220 Server Dialback): the XState machine and its pure helpers.
 */
export { initiatingServerMachine } from './machine.js';
/** The machine's type: what a `SessionDriver<M>` is typed by. */
export type InitiatingServerMachine = typeof import('./machine.js').initiatingServerMachine;
export type {
  AuthenticationMethod,
  DialbackDutyCommand,
  InitiatingServerCommand,
  InitiatingServerContext,
  InitiatingServerEndedCommand,
  InitiatingServerEvent,
  InitiatingServerInput,
  InitiatingServerOutcome,
  PairCommandEvent,
  PingReplyEvent,
  RefusalReason,
  ServerAuthenticatedCommand,
  StanzaBounce,
  StanzaRefusedCommand,
  StreamPurpose,
  Verification,
  VerifyAnswerCommand,
  VerifyEvent,
  VerifyFailedCommand,
} from './types.js';
export { EXTERNAL, externalAuth, externalResponse } from './auth.js';
export { decideServerFeatures, dialbackPossible, offeredServerFeatures, tlsRequired, type FeatureView, type OfferedServerFeatures, type ServerFeatureDecision } from './features.js';
export { classifyPeerElement, isEmptyFeatures, isServerPing, newPingId, serverPing, stanzaRefusal, unexpectedPeerElementCondition, type PeerElementKind } from './stanza.js';
export { bounceOf } from './setup.js';
export { pairActorId, pairDialback, type PairInput } from './dialback.js';
export { DEFAULT_INITIATING_SERVER_POLICY, type InitiatingServerPolicy } from './policy.js';
