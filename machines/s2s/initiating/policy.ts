/**
 * Policy of the initiating server of a server-to-server stream: the choices RFC 6120,
 * XEP-0178 and XEP-0220 leave to the operator, as machine input, never constants. The
 * defaults below say which passage each answers.
 */
import { DEFAULT_DIALBACK_POLICY } from '../../dialback/policy.js';
import type { DialbackPolicy } from '../../dialback/types.js';
import { DEFAULT_TIMEOUTS } from '../../policy.js';
import type { KeepaliveMode, Timeouts } from '../../protocol.js';

export interface InitiatingServerPolicy {
  /**
   * §5.3.1: 'required': never go on without TLS (a stream that does not offer STARTTLS is
   * closed with `<policy-violation/>`); 'optional': use STARTTLS whenever it is offered.
   * When `dialback.dialbackAllowed` is false TLS is required whatever this says: only a TLS
   * certificate can authenticate either side then.
   */
  readonly tls: 'required' | 'optional';
  /**
   * Server Dialback (XEP-0220). `dialbackAllowed: false` is the "certificates required"
   * policy: the receiving server's certificate must authenticate the remote domain
   * (§13.7.2.1) and we authenticate with SASL EXTERNAL only (XEP-0178 §3).
   * `dialbackTimeout` bounds the wait for Step 4 (§2.1.1 "MAY impose a timeout").
   * `requireTls` and `maxPairsPerStream` are the receiving side's and not read here.
   */
  readonly dialback: DialbackPolicy;
  /**
   * XEP-0178 §3 step 10: the authorization identity in `<auth mechanism='EXTERNAL'/>`.
   * true: our domain, base 64 (the interoperability note: "SHOULD include the authorization
   * identity for backward compatibility"); false: the empty response '=' of the example.
   */
  readonly externalAuthzid: boolean;
  /**
   * XEP-0220 §2.1.2: `<db:verify/>` requests held until the stream is ready for them and
   * waiting for their answer, at most this many; past it a VERIFY fails at once, so one
   * slow peer cannot grow the context without bound (the runtime may open another stream).
   */
  readonly maxVerifications: number;
  /**
   * §4.6.3: how an idle stream is probed. 'whitespace' (default): §4.6.1 keepalives, a dead
   * TCP connection shows up as WRITE_FAILED; 'ping': an XEP-0199 §4.3 server-to-server ping
   * on this stream, whose answer arrives on the peer's stream to us (streams are one-way,
   * XEP-0220 §2.3) and comes back from the runtime as PING_REPLY.
   */
  readonly keepalive: KeepaliveMode;
  readonly timeouts: Timeouts;
}

export const DEFAULT_INITIATING_SERVER_POLICY: InitiatingServerPolicy = {
  tls: 'required', // §5.3.1, §13.7; XEP-0178 §3 step 3 shows <required/>
  dialback: DEFAULT_DIALBACK_POLICY, // dialback allowed: the fallback when EXTERNAL is not possible (XEP-0178 §3 step 11b)
  externalAuthzid: true, // XEP-0178 §3 interoperability note (SHOULD)
  maxVerifications: DEFAULT_DIALBACK_POLICY.maxPairsPerStream, // as many as one incoming stream may ask us to verify
  // Whitespace by default: it needs nothing from the peer's stream to us (§4.6.1).
  keepalive: 'whitespace',
  timeouts: DEFAULT_TIMEOUTS,
};
