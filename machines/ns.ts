/**
 * XML namespaces of XMPP Core (RFC 6120 §4.8, §5.4, §6.4, §7.4, §8.3.2) and the
 * extensions the model uses (XEP-0199 ping, XEP-0030 disco, XEP-0220 dialback).
 */
export const NS = {
  /** RFC 6120 §4.8.1 the stream namespace; its prefix on the wire is always 'stream' (§4.8.5). */
  STREAMS: 'http://etherx.jabber.org/streams',
  /** RFC 6120 §4.8.2 content namespace of client-to-server streams. */
  CLIENT: 'jabber:client',
  /** RFC 6120 §4.8.2 content namespace of server-to-server streams. */
  SERVER: 'jabber:server',
  /** XEP-0220 §2.4.1 Server Dialback: `<db:result/>`, `<db:verify/>` (declared on a 'jabber:server' stream header). */
  DIALBACK: 'jabber:server:dialback',
  /** XEP-0220 §2.4.2 the stream feature announcing dialback error handling (`<dialback><errors/></dialback>`). */
  DIALBACK_FEATURES: 'urn:xmpp:features:dialback',
  /** RFC 6120 §4.9.2 stream error conditions. */
  STREAM_ERRORS: 'urn:ietf:params:xml:ns:xmpp-streams',
  /** RFC 6120 §5.4 STARTTLS. */
  TLS: 'urn:ietf:params:xml:ns:xmpp-tls',
  /** RFC 6120 §6.4 SASL. */
  SASL: 'urn:ietf:params:xml:ns:xmpp-sasl',
  /** RFC 6120 §7.4 resource binding. */
  BIND: 'urn:ietf:params:xml:ns:xmpp-bind',
  /** RFC 6120 §8.3.2 stanza error conditions. */
  STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  /** XEP-0199 XMPP Ping. */
  PING: 'urn:xmpp:ping',
  /** XEP-0030 Service Discovery (info). */
  DISCO_INFO: 'http://jabber.org/protocol/disco#info',
  /** RFC 6120 §4.7.4 / XML 1.0: the xml: prefix namespace (xml:lang). */
  XML: 'http://www.w3.org/XML/1998/namespace',
} as const;
