/**
 * Default dialback policy. Each value is a choice XEP-0220 leaves open; machines take the
 * policy as input, never these constants.
 */
import type { DialbackPolicy } from './types.js';

export const DEFAULT_DIALBACK_POLICY: DialbackPolicy = {
  // §2.1.1 "MAY impose a timeout on dialback operations". 30 s covers a DNS lookup, a TCP
  // connect and a stream setup to the Authoritative Server with room to spare, and is the
  // same bound machines/policy.ts puts on an unanswered ping (RFC 6120 §4.6.2).
  dialbackTimeout: 30_000,
  // §2.5 policy-violation is for servers that insist on TLS first; RFC 6120 §5.3.1 and §13.7
  // make TLS mandatory-to-negotiate, so the stream machine normally has it on already. Off
  // here so that dialback works on a stream whose TLS is optional by operator choice.
  requireTls: false,
  // Dialback stays the fallback when no certificate authenticates the peer (issue #10).
  dialbackAllowed: true,
  // §2.6: multiplexing saves connections; the bound keeps one peer from growing a stream's
  // pair table (and our Step 2 traffic) without limit. 100 pairs covers a virtual host with
  // its MUC and upload components many times over; past it, resource-constraint tells the
  // peer to open a new connection (§2.5).
  maxPairsPerStream: 100,
};
