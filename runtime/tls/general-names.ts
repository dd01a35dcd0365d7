/**
 * The subjectAltName GeneralNames that XMPP certificates carry (RFC 5280 §4.2.1.6),
 * encoded and decoded as ASN.1 by hand: node-forge can write dNSName and URI entries
 * but not the otherName forms XMPP needs, SRVName (RFC 4985) and XmppAddr
 * (RFC 6120 §13.7.1.4).
 *
 *   GeneralName ::= CHOICE {            -- module uses IMPLICIT tags
 *     otherName                  [0] OtherName,
 *     dNSName                    [2] IA5String,
 *     uniformResourceIdentifier  [6] IA5String, ... }
 *   OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
 */
import forge from 'node-forge';

const { asn1 } = forge;

/** RFC 6120 §13.7.1.4: id-on-xmppAddr ::= { id-on 5 }, value XmppAddr ::= UTF8String. */
export const OID_XMPP_ADDR = '1.3.6.1.5.5.7.8.5';
/** RFC 4985 §2: id-on-dnsSRV ::= { id-on 7 }, value SRVName ::= IA5String. */
export const OID_SRV_NAME = '1.3.6.1.5.5.7.8.7';
/** RFC 5280 §4.2.1.6: id-ce-subjectAltName. */
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
/** X.520 id-at-commonName. */
export const OID_COMMON_NAME = '2.5.4.3';

/** GeneralName context tags used here (RFC 5280 §4.2.1.6). */
const TAG_OTHER_NAME = 0;
const TAG_DNS_NAME = 2;
const TAG_URI = 6;

/** What a subjectAltName holds, as text; identifiers are written exactly as given. */
export interface SubjectAltNames {
  dnsNames: string[];
  /** SRVName values, e.g. '_xmpp-client.example.com' (RFC 4985 §2). */
  srvNames: string[];
  /** XmppAddr values: a domain or a JID, UTF-8 (RFC 6120 §13.7.1.4). */
  xmppAddrs: string[];
  uris: string[];
}

function ia5(text: string): forge.asn1.Asn1 {
  // IA5String is 7-bit ASCII; an IDN must already be in A-labels here.
  if (!/^[\x00-\x7f]*$/.test(text)) throw new Error(`not an IA5String (convert IDNs to A-labels first): ${text}`);
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.IA5STRING, false, text);
}

function otherName(oid: string, value: forge.asn1.Asn1): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, TAG_OTHER_NAME, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [value]),
  ]);
}

/** DER of the GeneralNames SEQUENCE, ready to be the subjectAltName extnValue. */
export function encodeSubjectAltNames(names: Partial<SubjectAltNames>): string {
  const entries: forge.asn1.Asn1[] = [];
  for (const d of names.dnsNames ?? []) {
    entries.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, TAG_DNS_NAME, false, ia5(d).value as string));
  }
  for (const s of names.srvNames ?? []) entries.push(otherName(OID_SRV_NAME, ia5(s)));
  for (const x of names.xmppAddrs ?? []) {
    const utf8 = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(x));
    entries.push(otherName(OID_XMPP_ADDR, utf8));
  }
  for (const u of names.uris ?? []) {
    entries.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, TAG_URI, false, ia5(u).value as string));
  }
  const seq = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, entries);
  return asn1.toDer(seq).getBytes();
}

/**
 * Parse DER strictly, leaving BIT STRINGs (keys, signatures) undecoded. forge accepts
 * this options object; its typings only know the older boolean form.
 */
export function parseDer(bytes: string): forge.asn1.Asn1 {
  const fromDer = asn1.fromDer as unknown as (b: string, o: { strict: boolean; decodeBitStrings: boolean }) => forge.asn1.Asn1;
  return fromDer(bytes, { strict: true, decodeBitStrings: false });
}

/** Text of a primitive ASN.1 string node (forge keeps contents as a byte string). */
export function asn1String(node: forge.asn1.Asn1): string {
  const bytes = Buffer.from(node.value as string, 'binary');
  switch (node.type) {
    case asn1.Type.UTF8:
      return bytes.toString('utf8');
    case asn1.Type.BMPSTRING:
      // UCS-2 big-endian; Node only decodes little-endian, so swap.
      return Buffer.from(bytes).swap16().toString('utf16le');
    default:
      // IA5String, PrintableString, T61String (treated as Latin-1), VisibleString.
      return bytes.toString('latin1');
  }
}

/** Decode a subjectAltName extnValue (DER of GeneralNames). Unknown forms are skipped. */
export function decodeSubjectAltNames(der: string): SubjectAltNames {
  const out: SubjectAltNames = { dnsNames: [], srvNames: [], xmppAddrs: [], uris: [] };
  const seq = parseDer(der);
  for (const gn of seq.value as forge.asn1.Asn1[]) {
    if (gn.tagClass !== asn1.Class.CONTEXT_SPECIFIC) continue;
    if (gn.type === TAG_DNS_NAME && !gn.constructed) {
      out.dnsNames.push(Buffer.from(gn.value as string, 'binary').toString('latin1'));
    } else if (gn.type === TAG_URI && !gn.constructed) {
      out.uris.push(Buffer.from(gn.value as string, 'binary').toString('latin1'));
    } else if (gn.type === TAG_OTHER_NAME && gn.constructed) {
      const [typeId, explicit] = gn.value as forge.asn1.Asn1[];
      if (!typeId || !explicit || typeId.type !== asn1.Type.OID) continue;
      const inner = (explicit.value as forge.asn1.Asn1[])[0];
      if (!inner) continue;
      const oid = asn1.derToOid(typeId.value as string);
      if (oid === OID_SRV_NAME) out.srvNames.push(asn1String(inner));
      else if (oid === OID_XMPP_ADDR) out.xmppAddrs.push(asn1String(inner));
    }
  }
  return out;
}
