/**
 * Default policies. Every value here is a choice the RFC leaves to implementations;
 * each says which RFC passage it answers. Machines take these as input, never as constants.
 */
import type { InitiatingEntityInput, ReceivingEntityInput, Timeouts } from './protocol.js';

export const DEFAULT_TIMEOUTS: Timeouts = {
  // §4.6.3 leaves the values open. 60 s to get from TCP connect to a bound stream is
  // generous for humans typing into `xmppkit connect` and short enough to shed dead sockets.
  negotiation: 60_000,
  // XEP-0199 §4 suggests pinging after some minutes of silence; 5 minutes.
  idle: 300_000,
  // §4.6.2: a ping unanswered for 30 s marks a broken stream.
  pingResponse: 30_000,
  // §4.4: wait 10 s for the peer's closing tag before closing TCP anyway.
  closeWait: 10_000,
};

export const DEFAULT_SERVER_POLICY: Omit<ReceivingEntityInput, 'domain' | 'random'> = {
  tls: 'required', // §5.3.1 + §13.9.4: PLAIN and SCRAM only under TLS by default
  mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'], // §6.3.3: strongest first
  allowPlainWithoutTls: false,
  maxAuthAttempts: 3, // §6.4.5: "at least 2 and no more than 5"
  resourceConflict: 'override', // §7.7.2.2: the newest session wins (most common deployed choice)
  maxResourcesPerAccount: 10, // §7.6.2.1
  keepalive: 'ping',
  timeouts: DEFAULT_TIMEOUTS,
};

export const DEFAULT_CLIENT_POLICY: Omit<InitiatingEntityInput, 'jid' | 'password' | 'random'> = {
  tls: 'required',
  mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'],
  allowPlainWithoutTls: false,
  keepalive: 'ping',
  timeouts: DEFAULT_TIMEOUTS,
};
