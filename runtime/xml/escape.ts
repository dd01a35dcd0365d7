/**
 * Escaping for the serializer, so that what we write parses back to the same data
 * (RFC 6120 §11.3 rule 1: never generate data that is not well-formed).
 */

/**
 * XML 1.0 `Char` is the only text an XML stream can carry; anything else (C0 controls,
 * lone surrogates, U+FFFE/U+FFFF) is replaced by U+FFFD rather than written raw, which
 * the peer would have to answer with `<not-well-formed/>`.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function clean(s: string): string {
  return s.replace(NOT_XML_CHAR, '\uFFFD');
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
// Attribute values are normalized by the reader (XML 1.0 §3.3.3): tab, CR and LF must be
// character references to survive. Values are written in single quotes, but both quote
// characters are escaped so the output does not depend on that choice.
const ATTR_ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#x9;', '\n': '&#xA;', '\r': '&#xD;',
};

/**
 * True when `s` has nothing either escaper would change: printable ASCII other than the
 * five markup characters, plus tab and LF when `attr` is false. Most text on the wire is
 * like that, and then the regular expressions below are skipped (same result).
 */
function plain(s: string, attr: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x26 /* & */ || c === 0x3c /* < */ || c === 0x3e /* > */) return false;
      if (attr && (c === 0x22 /* " */ || c === 0x27) /* ' */) return false;
    } else if (attr || (c !== 0x09 && c !== 0x0a)) return false;
  }
  return true;
}

/** Character data: `&`, `<`, `>` (so `]]>` cannot appear) and CR (which a reader would turn into LF). */
export function escapeText(s: string): string {
  if (plain(s, false)) return s;
  return clean(s).replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!);
}

/** An attribute value for use inside single or double quotes. */
export function escapeAttr(s: string): string {
  if (plain(s, true)) return s;
  return clean(s).replace(/[&<>"'\t\n\r]/g, (c) => ATTR_ESCAPES[c]!);
}

/** XML 1.0 `Name` without colons (an NCName, XML-NAMES §3), the only thing a local name or prefix may be. */
const NC_NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NC_NAME_CHAR = `${NC_NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NC_NAME = new RegExp(`^[${NC_NAME_START}][${NC_NAME_CHAR}]*$`, 'u');

/** Names already found to be NCNames (element and attribute names repeat endlessly on a stream). */
const KNOWN_NC_NAMES = new Set<string>();
const MAX_KNOWN_NC_NAMES = 4096;

export function isNcName(s: string): boolean {
  if (KNOWN_NC_NAMES.has(s)) return true;
  const ok = NC_NAME.test(s);
  if (ok && KNOWN_NC_NAMES.size < MAX_KNOWN_NC_NAMES) KNOWN_NC_NAMES.add(s);
  return ok;
}
