/**
 * SASLprep, RFC 4013 (the stringprep profile RFC 5802 §5.1 and RFC 4616 §2 name for
 * user names and passwords).
 *
 * Implemented: the two mappings (§2.1: non-ASCII spaces → U+0020, "commonly mapped to
 * nothing" → removed), NFKC (§2.2), every prohibited table of §2.3 (RFC 3454 C.1.2,
 * C.2.1, C.2.2, C.3 – C.9), the bidi rule of §2.4 (RFC 3454 §6) and, for stored strings,
 * the rejection of unassigned code points (RFC 3454 §7).
 *
 * Known gaps, stated rather than hidden: stringprep is pinned to Unicode 3.2, while this
 * uses the Unicode version of the running ICU for NFKC and for "unassigned"; and JavaScript
 * regular expressions do not expose the Bidi_Class property, so RandALCat is approximated
 * as "a letter of a right-to-left script" and LCat as "any other letter". A string that
 * differs only in those corners may be accepted or rejected differently from a stringprep
 * library pinned to Unicode 3.2.
 */

/** RFC 3454 C.1.2: non-ASCII space characters, mapped to SPACE by RFC 4013 §2.1. */
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
/** RFC 3454 B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;

/** RFC 4013 §2.3 / RFC 3454 C.2 – C.9 (C.1.2 is mapped away before this is applied). */
const PROHIBITED = new RegExp(
  [
    '\\p{Cc}', // C.2.1 ASCII control, and the C0/C1 part of C.2.2
    '[\\u06DD\\u070F\\u180E\\u200C\\u200D\\u2028\\u2029\\u2060-\\u2063\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFC\\u{1D173}-\\u{1D17A}]', // C.2.2
    '\\p{Co}', // C.3 private use
    '[\\uFDD0-\\uFDEF\\uFFFE\\uFFFF\\u{1FFFE}\\u{1FFFF}\\u{2FFFE}\\u{2FFFF}\\u{3FFFE}\\u{3FFFF}\\u{4FFFE}\\u{4FFFF}\\u{5FFFE}\\u{5FFFF}\\u{6FFFE}\\u{6FFFF}\\u{7FFFE}\\u{7FFFF}\\u{8FFFE}\\u{8FFFF}\\u{9FFFE}\\u{9FFFF}\\u{AFFFE}\\u{AFFFF}\\u{BFFFE}\\u{BFFFF}\\u{CFFFE}\\u{CFFFF}\\u{DFFFE}\\u{DFFFF}\\u{EFFFE}\\u{EFFFF}\\u{FFFFE}\\u{FFFFF}\\u{10FFFE}\\u{10FFFF}]', // C.4 non-characters
    '\\p{Cs}', // C.5 surrogate code points (a lone surrogate in a JS string)
    '[\\uFFF9-\\uFFFD]', // C.6 inappropriate for plain text
    '[\\u2FF0-\\u2FFB]', // C.7 inappropriate for canonical representation
    '[\\u0340\\u0341\\u200E\\u200F\\u202A-\\u202E\\u206A-\\u206F]', // C.8 change display properties / deprecated
    '[\\u{E0001}\\u{E0020}-\\u{E007F}]', // C.9 tagging characters
  ].join('|'),
  'u',
);

const UNASSIGNED = /\p{Cn}/u;

// Approximations of RFC 3454 D.1 (RandALCat) and D.2 (LCat); see the header comment.
const RTL_SCRIPT = '\\p{Script=Hebrew}\\p{Script=Arabic}\\p{Script=Syriac}\\p{Script=Thaana}\\p{Script=Nko}\\p{Script=Samaritan}\\p{Script=Mandaic}\\p{Script=Adlam}';
const RAND_AL = new RegExp(`(?=\\p{L})[${RTL_SCRIPT}]`, 'u');
const L_CAT = new RegExp(`(?![${RTL_SCRIPT}])\\p{L}`, 'u');

export interface SaslprepOptions {
  /** RFC 3454 §7: queries allow unassigned code points, stored strings do not. Default: query. */
  readonly storedString?: boolean;
}

/**
 * Prepare a user name or password. undefined when the string contains a prohibited
 * character or breaks the bidi rule; the result may be empty, which callers treat as a
 * failure as RFC 5802 §5.1 asks.
 */
/**
 * Printable ASCII (U+0020-U+007E) is left unchanged by every step below: no mapping table
 * (B.1, C.1.2) lists it, NFKC maps it to itself, none of it is prohibited (C.1-C.9) or
 * unassigned, and it holds no RandALCat character. Such strings (most user names and
 * passwords) skip the Unicode regular expressions.
 */
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

export function saslprep(input: string, opts: SaslprepOptions = {}): string | undefined {
  if (PRINTABLE_ASCII.test(input)) return input;
  const mapped = input.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '');
  const s = mapped.normalize('NFKC');
  if (PROHIBITED.test(s)) return undefined;
  if (opts.storedString && UNASSIGNED.test(s)) return undefined;
  if (!bidiOk(s)) return undefined;
  return s;
}

/** RFC 3454 §6: RandALCat text contains no LCat and starts and ends with RandALCat. */
function bidiOk(s: string): boolean {
  if (!RAND_AL.test(s)) return true;
  if (L_CAT.test(s)) return false;
  const chars = [...s];
  return RAND_AL.test(chars[0] ?? '') && RAND_AL.test(chars[chars.length - 1] ?? '');
}
