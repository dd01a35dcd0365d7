/**
 * RFC 6120 §11.6: the stream is UTF-8 and nothing else.
 *
 * Bytes are decoded incrementally: a character split across TCP reads waits for its
 * remaining bytes. Anything that is not UTF-8 as defined by RFC 3629 (overlong forms,
 * surrogates, code points above U+10FFFF, stray continuation bytes, and so the UTF-16
 * byte order marks FE FF / FF FE) is reported with the text that preceded it, so the
 * parser handles the valid part first and then answers `<unsupported-encoding/>`:
 * §4.9.3.22 names "violating the rules of the UTF-8 encoding" as a case of that condition.
 *
 * The decoder keeps U+FEFF in the text (`ignoreBOM`): §11.6 says it is a zero width
 * no-break space, never a byte order mark, so the parser judges it like any character.
 */
import { isUtf8 } from 'node:buffer';

export interface Decoded {
  /** The decoded text up to the first invalid byte (all of it when `error` is absent). */
  readonly text: string;
  readonly error?: string;
}

export class Utf8Input {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** The bytes of an incomplete character at the end of the last chunk (at most 3). */
  private pending: Uint8Array = new Uint8Array(0);

  decode(chunk: Uint8Array | string): Decoded {
    if (typeof chunk === 'string') return { text: chunk };
    let data = chunk;
    if (this.pending.length > 0) {
      data = new Uint8Array(this.pending.length + chunk.length);
      data.set(this.pending);
      data.set(chunk, this.pending.length);
    }
    const complete = data.length - incompleteTail(data);
    const body = data.subarray(0, complete);
    if (isUtf8(body)) {
      this.pending = data.slice(complete);
      return { text: this.decoder.decode(body) };
    }
    const bad = scanUtf8(body, 0).end;
    return {
      text: this.decoder.decode(body.subarray(0, bad)),
      error: `invalid UTF-8 (byte 0x${body[bad]!.toString(16).padStart(2, '0')}); the stream must be UTF-8 (RFC 6120 §11.6)`,
    };
  }
}

/** Number of bytes at the end of `data` that start a valid but unfinished UTF-8 sequence. */
function incompleteTail(data: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= data.length; k++) {
    const b = data[data.length - k]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const r = scanUtf8(data, data.length - k);
    return r.incomplete ? data.length - r.end : 0;
  }
  return 0;
}

/**
 * Validate UTF-8 from `from` (RFC 3629 §4, Unicode Table 3-7). `end` is where it stopped:
 * the length when all is valid, else the start of the offending sequence; `incomplete`
 * when that sequence is only cut short by the end of the data.
 */
export function scanUtf8(bytes: Uint8Array, from: number): { end: number; incomplete: boolean } {
  const n = bytes.length;
  let i = from;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // no overlong forms
      if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // no overlong forms
      if (b === 0xf4) hi = 0x8f; // nothing above U+10FFFF
    } else return { end: i, incomplete: false };
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return { end: i, incomplete: true };
      const c = bytes[i + k]!;
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return { end: i, incomplete: false };
    }
    i += need + 1;
  }
  return { end: n, incomplete: false };
}
