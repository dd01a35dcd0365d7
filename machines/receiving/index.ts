/**
 * The receiving entity (server side of a client-to-server stream), RFC 6120 §4-§8:
 * the XState machine and its pure helpers.
 */
export { receivingEntityMachine } from './machine.js';
/** The machine's type: what `SessionDriver<M>` and the simulator are typed by. */
export type ReceivingEntityMachine = typeof import('./machine.js').receivingEntityMachine;
export type {
  BindDecision,
  FailEvent,
  PendingBind,
  PendingSaslStep,
  ReceivingEntityContext,
  ReceivingEntityEvent,
  ReceivingEntityMachineInput,
} from './types.js';
export {
  DEFAULT_LANG,
  OUR_VERSION,
  compareVersions,
  formatVersion,
  headerError,
  newStreamId,
  parseVersion,
  responseHeader,
  responseLang,
  responseVersion,
  servesDomain,
  type Version,
} from './header.js';
export { featuresElement, offeredMechanisms, stageOf, tlsOffered, type Stage } from './features.js';
export { classifyElement, unexpectedElementCondition, type ElementKind } from './elements.js';
export { authStep, authorizedBareJid, challengeElement, credentialsStep, responseStep, successCheck, successElement, toPending } from './auth.js';
export {
  DEFAULT_MAX_BIND_ATTEMPTS,
  MAX_REGENERATIONS,
  bindError,
  bindResult,
  decideBinding,
  generateResource,
  parseBindRequest,
  type BindRequest,
} from './bind.js';
export { fromIsValid, isPingReply, newPingId, pingElement, stampStanza } from './stanza.js';
export { streamErrorElementFor } from './errors.js';
