/**
 * Interop, server-to-server: our server ⇄ ejabberd 23.01 (Debian's package) on a private test
 * network, both directions, SASL EXTERNAL and dialback (./interop-scenario.ts). ejabberd runs
 * with `s2s_use_starttls: optional`, `ca_file` set to the test CA and mod_s2s_dialback
 * (peers/ejabberd.ts), so a certificate that does not name its domain leaves dialback to
 * authenticate it (RFC 6120 §13.7.2.1). No root, ip, dnsmasq or ejabberd → the suite fails
 * with the reason; it is never skipped.
 *
 * Our servers' certificates carry no XmppAddr here: ejabberd 23.01 (p1_xmpp 1.6.1,
 * xmpp_stream_pkix:get_domains_from_san) returns a binary where a list is due for an
 * id-on-xmppAddr SAN holding a domain, and its s2s_in process crashes (badarg in ++) on
 * SASL EXTERNAL, closing the stream with a bare `</stream:stream>`. RFC 6120 §13.7.1.2.2's own
 * example certificate has such an XmppAddr; public CAs issue DNS-ID-only certificates, which is
 * what ejabberd is given here.
 */
import { startEjabberd } from '../../peers/ejabberd.js';
import { interopSuite } from './interop-scenario.js';

interopSuite({ name: 'ejabberd', start: ({ peer }) => startEjabberd({ ...peer, logLevel: 'debug' }), xmppAddrInOurCertificates: false });
