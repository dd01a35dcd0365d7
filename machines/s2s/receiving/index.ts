/**
 * The receiving server of a server-to-server stream (RFC 6120 §4-§6, §8 on 'jabber:server',
 * XEP-0178 SASL EXTERNAL, XEP-0220 Server Dialback): the XState machine and its pure helpers.
 */
export { receivingServerMachine } from './machine.js';
/** The machine's type: what a `SessionDriver<M>` is typed by. */
export type ReceivingServerMachine = typeof import('./machine.js').receivingServerMachine;
export type {
  AuthenticationMethod,
  DialbackDutyCommand,
  ExternalStep,
  PairCommandEvent,
  PingPeerCommand,
  PingReplyEvent,
  ReceivingServerCommand,
  ReceivingServerContext,
  ReceivingServerEvent,
  ReceivingServerInput,
  ServerAuthenticatedCommand,
  VerifyAnswerEvent,
  VerifyFailedEvent,
} from './types.js';
export { EXTERNAL, externalAuth, externalResponse, type ExternalView } from './auth.js';
export { externalOffered, featuresElement, stageOf, tlsRequired, type FeatureView, type ServerStage } from './features.js';
export { classifyServerElement, newPingId, stanzaError, unexpectedServerElementCondition, type ServerElementKind } from './stanza.js';
export { pairActorId, pairDialback, type PairInput } from './dialback.js';
export { DEFAULT_RECEIVING_SERVER_POLICY, type ReceivingServerPolicy } from '../policy.js';
