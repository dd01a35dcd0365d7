/** The XMPP client runtime: createClient and its parts. */
export {
  createClient,
  XmppClient,
  type ClientEvents,
  type ClientOptions,
  type ClientPolicy,
  type ClientStatus,
  type LogLevel,
} from './client.js';
export { Backoff, backoffDelay, backoffWindow, DEFAULT_BACKOFF, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from './backoff.js';
export { ClientError, describeOutcome, isTransient, outcomeSection } from './outcome.js';
export { IqHandlers, StanzaError, isIqRequest, isIqResponse, stanzaErrorCondition, type IqHandler } from './iq.js';
export { clientTlsRole, readCaFile, type ClientTlsOptions } from './tls-options.js';
export { formatTransition } from './trace.js';
export { parseStanzaLine } from './stanza-line.js';
export { MAX_REDIRECTS, parseSeeOtherHost } from './redirect.js';
