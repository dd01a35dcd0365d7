/** The XMPP server runtime: createServer and its parts. */
export { createServer, type S2sOptions, type ServerLimits, type ServerOptions, type ServerPolicy, type XmppServer } from './server.js';
export { route, presenceSessionChange, SERVER_FEATURES, type Delivery, type RosterView, type RouterView } from './router.js';
export {
  DEFAULT_ROSTER_LIMITS,
  parseRosterSet,
  removalSideEffects,
  rosterPushStanza,
  rosterRequest,
  ROSTER_NS,
  ROSTERVER_NS,
  type RosterAccess,
  type RosterLimits,
  type RosterOutcome,
  type RosterPush,
  type RosterSet,
  type SubscriptionSideEffect,
} from './roster.js';
export { answerIq, ACCOUNT_FEATURES, IQ_NS, type IqAnswer, type IqTarget } from './server-iq.js';
export { SessionRegistry, type RegisteredSession } from './registry.js';
export { createLogger, isLogLevel, LOG_LEVELS, type LogLevel, type LogRecord, type LogSink, type Logger } from './logger.js';
export { TokenBucket } from './rate-limit.js';
export { initDataDir, recordedDomain, DEFAULT_DOMAIN } from './data-dir.js';
