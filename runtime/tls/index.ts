/** Certificates and service identity for XMPP (RFC 6120 §13.7, RFC 6125 §6). */
export {
  createCertificate,
  createSelfSignedCertificate,
  loadOrCreateCertificate,
  xmppServerIdentifiers,
  type CertificateBundle,
  type CertificateOptions,
} from './certificate.js';
export {
  presentedIdentifiers,
  verifyServiceIdentity,
  xmppCheckServerIdentity,
  type IdentityResult,
  type PresentedIdentifiers,
  type XmppService,
} from './identity.js';
export { s2sTrust, readCaCertificates, type S2sTrustOptions } from './trust.js';
export { OID_SRV_NAME, OID_XMPP_ADDR } from './general-names.js';
