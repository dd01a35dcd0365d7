/**
 * Byte/text codecs used by the SASL layer.
 *
 * RFC 6120 §6.4.2 and §13.9.1: SASL data travels as base 64 (RFC 4648 §4) with padding
 * bits set to zero; any character outside the alphabet (whitespace included) and any '='
 * that is not trailing padding MUST be rejected, not ignored. The same strict decoder is
 * used for the base 64 fields inside SCRAM messages (s=, c=, p=, v=).
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** RFC 4648 §4 base 64 with padding. */
export function toBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/**
 * Strict RFC 4648 §4 decoding: only the alphabet, '=' only as final padding, and the
 * padding bits zero (§13.9.1). Checked by re-encoding, so exactly one text maps to each
 * byte string. undefined when the text is not canonical base 64.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined; // non-zero padding bits
  return new Uint8Array(bytes);
}

/** RFC 6120 §6.4.2: base64 of the data; '=' when the data is empty. */
export function encodeSaslData(data: Uint8Array): string {
  return data.byteLength === 0 ? '=' : toBase64(data);
}

/**
 * Inverse of encodeSaslData. '=' is empty data (§6.4.2); an element with no text at all is
 * empty data as well (a `<response/>` or `<challenge/>` carrying nothing). Anything that is
 * not strict base 64 gives undefined: the caller answers §6.5.5 incorrect-encoding.
 */
export function decodeSaslData(text: string): Uint8Array | undefined {
  if (text === '' || text === '=') return new Uint8Array(0);
  return fromBase64(text);
}

const encoder = new TextEncoder();
// fatal: RFC 5802 §3 and RFC 4616 §2 require UTF-8; ill-formed input is a malformed message,
// never silently repaired. ignoreBOM keeps a leading U+FEFF as data rather than dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** UTF-8 decode; undefined when the bytes are not well-formed UTF-8. */
export function fromUtf8(data: Uint8Array): string | undefined {
  try {
    return decoder.decode(data);
  } catch {
    return undefined;
  }
}
