/**
 * The part of Node's `Buffer` the machines, the parser and the simulator's link use, for the
 * browser bundle (esbuild injects it as the global `Buffer`): UTF-8, hex, base64 and
 * base64url, on a Uint8Array. Nothing else of Node's API is provided.
 */
type Encoding = 'utf8' | 'utf-8' | 'hex' | 'base64' | 'base64url';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** Bytes that print as Node's Buffer does. */
class Bytes extends Uint8Array {
  override toString(encoding: Encoding = 'utf8'): string {
    switch (encoding) {
      case 'hex':
        return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
      case 'base64':
        return base64(this);
      case 'base64url':
        return base64(this).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      default:
        return decoder.decode(this);
    }
  }
}

export type Buffer = Bytes;

export const Buffer = {
  byteLength(text: string, _encoding: 'utf8' = 'utf8'): number {
    return encoder.encode(text).length;
  },

  from(data: string | ArrayLike<number> | ArrayBuffer, encodingOrOffset?: Encoding | number, length?: number): Bytes {
    if (typeof data === 'string') {
      const bytes = decodeString(data, (encodingOrOffset as Encoding | undefined) ?? 'utf8');
      return new Bytes(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
    }
    if (data instanceof ArrayBuffer) {
      const offset = (encodingOrOffset as number | undefined) ?? 0;
      return new Bytes(data, offset, length ?? data.byteLength - offset);
    }
    const copy = new Bytes(data.length);
    copy.set(data);
    return copy;
  },
};

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function decodeString(text: string, encoding: Encoding): Uint8Array {
  if (encoding === 'hex') {
    const out = new Uint8Array(text.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  if (encoding === 'base64' || encoding === 'base64url') {
    // Like Node, decode leniently: stop at the first character outside the alphabet.
    const clean = /^[A-Za-z0-9+/\-_]*/.exec(text)![0].replace(/-/g, '+').replace(/_/g, '/');
    const padded = clean.length % 4 === 1 ? clean.slice(0, -1) : clean + '='.repeat((4 - (clean.length % 4)) % 4);
    const binary = atob(padded);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  return encoder.encode(text);
}
