/** `isUtf8` of `node:buffer` for the browser bundle: a fatal decoder rejects what is not UTF-8 (RFC 3629). */
const strict = new TextDecoder('utf-8', { fatal: true });

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export { Buffer } from './buffer.js';
