/** Certificates and service identity for XMPP (RFC 6120 §13.7, RFC 6125 §6). */
export {
  createCertificate,
  createSelfSignedCertificate,
  loadOrCreateCertificate,
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
export { OID_SRV_NAME, OID_XMPP_ADDR } from './general-names.js';
