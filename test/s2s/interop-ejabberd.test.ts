/**
 * Interop, server-to-server: our server ⇄ ejabberd 23.01 (Debian's package) on a private test
 * network, both directions, SASL EXTERNAL and dialback (./interop-scenario.ts). ejabberd runs
 * with `s2s_use_starttls: optional`, `ca_file` set to the test CA and mod_s2s_dialback
 * (peers/ejabberd.ts), so a certificate that does not name its domain leaves dialback to
 * authenticate it (RFC 6120 §13.7.2.1). No root, ip, dnsmasq or ejabberd → the suite fails
 * with the reason; it is never skipped.
 */
import { startEjabberd } from '../../peers/ejabberd.js';
import { interopSuite } from './interop-scenario.js';

interopSuite({ name: 'ejabberd', start: startEjabberd });
