/**
 * XML 1.0 (Fifth Edition) character classes, as the stream parser needs them (RFC 6120
 * §11.3: the stream must be well-formed XML). Strings are UTF-16: a character above U+FFFF
 * is a surrogate pair, and a lone surrogate is never a character.
 */

/** XML section 2.3 `S`: space, tab, CR, LF. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** ASCII name characters: 2 = NameStartChar (and NameChar), 1 = NameChar only, 0 = neither. */
const ASCII_NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_:]/.test(ch)) ASCII_NAME[c] = 2;
  else if (/[0-9.-]/.test(ch)) ASCII_NAME[c] = 1;
}

/**
 * XML section 2.3 `NameStartChar` for one UTF-16 code unit. A high surrogate counts (the pair
 * encodes U+10000–U+EFFFF when it is D800–DB7F); the caller checks that its low surrogate follows.
 */
export function isNameStart(c: number): boolean {
  if (c < 0x80) return ASCII_NAME[c] === 2;
  return (
    (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef) || (c >= 0x3001 && c <= 0xd7ff) ||
    (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) || (c >= 0xd800 && c <= 0xdb7f)
  );
}

/** XML section 2.3 `NameChar` for one UTF-16 code unit (low surrogates count: they only follow a high one). */
export function isNameChar(c: number): boolean {
  if (c < 0x80) return ASCII_NAME[c] !== 0;
  return (
    isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040 ||
    (c >= 0xdc00 && c <= 0xdfff)
  );
}

/**
 * XML section 2.2 `Char`, negated: matches the first code point that is not a character (C0
 * controls but tab, LF and CR; U+FFFE, U+FFFF; lone surrogates, which the `u` flag reads as
 * code points of their own).
 */
export const NOT_A_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** XML section 2.2 `Char` for a code point (from a character reference). */
export function isChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** The shape of a Namespaces in XML `QName` (section 3): no colon, or one between two non-empty parts. */
export function hasQNameShape(name: string): boolean {
  const colon = name.indexOf(':');
  return colon === -1 || (colon > 0 && colon < name.length - 1 && name.indexOf(':', colon + 1) === -1);
}

/** Namespaces in XML 1.0 `QName` (section 3): `NCName` or `NCName ':' NCName`, given a valid XML Name. */
export function isQName(name: string): boolean {
  const colon = name.indexOf(':');
  return hasQNameShape(name) && (colon === -1 || isNameStart(name.charCodeAt(colon + 1)));
}

/** The replacement text of the five entities XML predefines (XML section 4.6); RFC 6120 §11.1 allows no others. */
export function predefinedEntity(name: string): string | undefined {
  switch (name) {
    case 'amp': return '&';
    case 'lt': return '<';
    case 'gt': return '>';
    case 'quot': return '"';
    case 'apos': return "'";
    default: return undefined;
  }
}
