/**
 * The initiating entity (client side of a client-to-server stream), RFC 6120 §4-§8:
 * the XState machine and its pure helpers.
 */
export { initiatingEntityMachine } from './machine.js';
/** The machine's type: what `SessionDriver<M>` and the simulator are typed by. */
export type InitiatingEntityMachine = typeof import('./machine.js').initiatingEntityMachine;
export type {
  ClientIdentity,
  InitiatingEntityContext,
  InitiatingEntityEvent,
  InitiatingEntityMachineInput,
  PendingClientStep,
} from './types.js';
export { DEFAULT_CLIENT_LANG, identityOf, initialHeader, responseHeaderProblem } from './header.js';
export { chooseMechanism, decideFeatures, isFeatures, offeredFeatures, type FeatureDecision, type OfferedFeatures } from './features.js';
export { abortElement, authElement, challengeStep, responseElement, saslFailureCondition, startStep, successStep } from './auth.js';
export { bindRequest, bindableAccounts, newStanzaId, readBindReply, type BindReply } from './bind.js';
export {
  applicationMayWrite,
  classifyServerElement,
  clientPing,
  isPingReply,
  isServerPing,
  pingResult,
  readStreamError,
  unexpectedElementCondition,
  type ServerElementKind,
} from './stanza.js';
