/**
 * Interop, server-to-server: our server ⇄ Prosody 0.12 (Debian's package) on a private test
 * network, both directions, SASL EXTERNAL and dialback (./interop-scenario.ts). Prosody runs
 * with mod_dialback and `s2s_secure_auth = false` (peers/prosody.ts), so a certificate that
 * does not name its domain is not fatal and dialback authenticates it instead (RFC 6120
 * §13.7.2.1 leaves that to policy). No root, ip, dnsmasq or Prosody → the suite fails with the
 * reason; it is never skipped.
 */
import { startProsody } from '../../peers/prosody.js';
import { interopSuite } from './interop-scenario.js';

interopSuite({ name: 'Prosody', start: ({ peer }) => startProsody({ ...peer, logLevel: 'debug' }) });
