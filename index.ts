/**
 * xmpp-statekit: a formal, executable model of XMPP Core (RFC 6120).
 *
 * The package entry: the pure machines and their contract, the XML stream layer, and the
 * runtime: createServer and createClient.
 */
// The sans-IO contract and the pure pieces.
export type * from './machines/protocol.js';
export { DEFAULT_CLIENT_POLICY, DEFAULT_SERVER_POLICY, DEFAULT_TIMEOUTS } from './machines/policy.js';
export * from './machines/xml.js';
export * from './machines/jid.js';
export * from './machines/conditions.js';
export { NS } from './machines/ns.js';
export { receivingEntityMachine } from './machines/receiving/index.js';
export { initiatingEntityMachine } from './machines/initiating/index.js';
// RFC 6121 presence subscriptions (§3, Appendix A): one (user, contact) pair at the user's server.
export {
  subscriptionMachine,
  resumeSubscription,
  subscriptionAttribute,
  stateFromRosterItem,
  SUBSCRIPTION_STATES,
  type SubscriptionCommand,
  type SubscriptionEvent,
  type SubscriptionState,
  type RosterSubscription,
  type StoredSubscription,
} from './machines/subscription/index.js';
// The XML stream layer (RFC 6120 §4, §11).
export * from './runtime/xml/index.js';
// The runtime.
export { SessionDriver, type Clock, type SessionDriverOptions, type Transport, type TransitionTrace } from './runtime/session/driver.js';
export { SocketTransport, type SocketTransportOptions, type TlsRole } from './runtime/net/socket-transport.js';
// Finding a service by name (RFC 6120 §3.2, XEP-0368) and s2s trust anchors (§13.7.2.1).
export {
  connectCandidates,
  connectToDomain,
  ConnectToDomainError,
  resolveCandidates,
  type ConnectOptions,
  type Connected,
  type DirectTlsOptions,
  type DnsResolver,
  type FailedAttempt,
  type ResolveOptions,
} from './runtime/net/resolve.js';
export { candidateList, orderSrv, parseOverride, type Candidate, type CandidateList, type SrvAnswer, type XmppServiceName } from './runtime/net/srv.js';
export { s2sTrust, type S2sTrustOptions } from './runtime/tls/trust.js';
export { openAccountStore, type AccountStore } from './runtime/store/accounts.js';
export { openRosterStore, type RosterChange, type RosterItem, type RosterStore, type Subscription } from './runtime/store/roster.js';
export * from './runtime/client/index.js';
// The server's configuration file (CONFIG.md): JSON with comments, every problem with its position.
export { loadServerConfig, readServerConfig, formatProblem, type ConfigProblem, type ConfigResult } from './runtime/config/server-config.js';
export { parseJsonc, JsoncSyntaxError, type JsonNode, type Position as JsoncPosition } from './runtime/config/jsonc.js';
export {
  createServer,
  route,
  presenceSessionChange,
  SERVER_FEATURES,
  SessionRegistry,
  createLogger,
  TokenBucket,
  type ServerLimits,
  type ServerOptions,
  type ServerPolicy,
  type XmppServer,
  type Delivery,
  type RouterView,
  type RosterView,
  type RegisteredSession,
  type LogLevel as ServerLogLevel,
  type LogRecord,
  type LogSink,
} from './runtime/server/index.js';
