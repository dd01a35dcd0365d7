/**
 * Policy of the receiving server of a server-to-server stream: the choices RFC 6120,
 * XEP-0178 and XEP-0220 leave to the operator, as machine input, never constants. The
 * defaults below say which passage each answers.
 */
import { DEFAULT_DIALBACK_POLICY } from '../dialback/policy.js';
import type { DialbackPolicy } from '../dialback/types.js';
import { DEFAULT_TIMEOUTS } from '../policy.js';
import type { KeepaliveMode, Timeouts } from '../protocol.js';

export interface ReceivingServerPolicy {
  /**
   * §5.3.1: whether STARTTLS is required before anything else, or only offered. There is no
   * 'none': a server without a certificate cannot take part in certificate-based federation,
   * and §13.7 makes TLS mandatory-to-implement. When `dialback.dialbackAllowed` is false, TLS
   * is required whatever this says: only a TLS certificate could authenticate the peer.
   */
  readonly tls: 'required' | 'optional';
  /**
   * Server Dialback (XEP-0220) for this stream. `dialbackAllowed: false` is the
   * "certificates required" policy: only SASL EXTERNAL (XEP-0178) authenticates a peer, no
   * dialback feature is offered and every `<db:result/>` gets `<not-authorized/>` (§2.5).
   */
  readonly dialback: DialbackPolicy;
  /** §6.4.5: failed SASL attempts allowed before `<policy-violation/>` ("at least 2 and no more than 5"). */
  readonly maxAuthAttempts: number;
  /**
   * §4.6.3: how an idle peer is probed. 'ping': an XEP-0199 §4.3 server-to-server ping, which
   * the runtime sends over our outgoing stream to the peer (an incoming stream carries no
   * stanzas of ours, XEP-0220 §2.3); 'whitespace': §4.6.1 keepalives on this stream.
   */
  readonly keepalive: KeepaliveMode;
  readonly timeouts: Timeouts;
}

export const DEFAULT_RECEIVING_SERVER_POLICY: ReceivingServerPolicy = {
  tls: 'required', // §5.3.1, §13.7; XEP-0178 §3 step 3 shows <required/>
  dialback: DEFAULT_DIALBACK_POLICY, // dialback allowed: the fallback when no certificate authenticates the peer (XEP-0178 §3 step 9)
  maxAuthAttempts: 3, // §6.4.5, as for client streams (machines/policy.ts)
  // Whitespace by default: it needs no outgoing stream, and a dead TCP connection still shows
  // up as WRITE_FAILED (§4.6.1). A server that keeps outgoing streams open may choose 'ping'.
  keepalive: 'whitespace',
  timeouts: DEFAULT_TIMEOUTS,
};
