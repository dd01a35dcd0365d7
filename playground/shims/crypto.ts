/**
 * The synchronous part of `node:crypto` that SCRAM (RFC 5802, RFC 7677), PLAIN and the
 * dialback keys use, in plain TypeScript for the browser bundle (esbuild aliases
 * `node:crypto` here). WebCrypto has the same primitives but only asynchronously, and the
 * machines are synchronous: FIPS 180-4 SHA-1 and SHA-256, RFC 2104 HMAC, RFC 8018 PBKDF2.
 */
import { Buffer } from './buffer.js';

type Data = string | Uint8Array;
type Algorithm = 'sha1' | 'sha256';

const BLOCK = 64;
const encoder = new TextEncoder();
const bytesOf = (d: Data): Uint8Array => (typeof d === 'string' ? encoder.encode(d) : d);

/** Message padding of FIPS 180-4 §5.1.1: 0x80, zeros, the bit length big-endian. */
function pad(message: Uint8Array): DataView {
  const length = Math.ceil((message.length + 9) / BLOCK) * BLOCK;
  const out = new Uint8Array(length);
  out.set(message);
  out[message.length] = 0x80;
  const view = new DataView(out.buffer);
  view.setUint32(length - 8, Math.floor((message.length * 8) / 2 ** 32));
  view.setUint32(length - 4, (message.length * 8) >>> 0);
  return view;
}

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));
const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

function sha1(message: Uint8Array): Uint8Array {
  const view = pad(message);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Int32Array(80);
  for (let off = 0; off < view.byteLength; off += BLOCK) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(off + 4 * t);
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!, 1);
    let [a, b, c, d, e] = h as [number, number, number, number, number];
    for (let t = 0; t < 80; t++) {
      const [f, k] = t < 20 ? [(b & c) | (~b & d), 0x5a827999] : t < 40 ? [b ^ c ^ d, 0x6ed9eba1] : t < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc] : [b ^ c ^ d, 0xca62c1d6];
      const temp = (rotl(a, 5) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
  }
  return words(h);
}

const K256 = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function sha256(message: Uint8Array): Uint8Array {
  const view = pad(message);
  const h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const w = new Int32Array(64);
  for (let off = 0; off < view.byteLength; off += BLOCK) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(off + 4 * t);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15]!, 7) ^ rotr(w[t - 15]!, 18) ^ (w[t - 15]! >>> 3);
      const s1 = rotr(w[t - 2]!, 17) ^ rotr(w[t - 2]!, 19) ^ (w[t - 2]! >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as [number, number, number, number, number, number, number, number];
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[t]! + w[t]!) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i]! + v) | 0));
  }
  return words(h);
}

function words(h: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * h.length);
  const view = new DataView(out.buffer);
  h.forEach((v, i) => view.setUint32(4 * i, v >>> 0));
  return out;
}

const HASHES: Record<Algorithm, (m: Uint8Array) => Uint8Array> = { sha1, sha256 };

function hashOf(name: string): (m: Uint8Array) => Uint8Array {
  const fn = HASHES[name.toLowerCase().replace('-', '') as Algorithm];
  if (!fn) throw new Error(`crypto shim: no hash ${name}`);
  return fn;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)). */
function hmac(hash: (m: Uint8Array) => Uint8Array, key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = new Uint8Array(BLOCK);
  k.set(key.length > BLOCK ? hash(key) : key);
  const inner = k.map((b) => b ^ 0x36);
  const outer = k.map((b) => b ^ 0x5c);
  return hash(concat([outer, hash(concat([inner, message]))]));
}

class Digest {
  private readonly parts: Uint8Array[] = [];

  constructor(private readonly finish: (message: Uint8Array) => Uint8Array) {}

  update(data: Data, _encoding?: 'utf8'): this {
    this.parts.push(bytesOf(data));
    return this;
  }

  digest(): Buffer;
  digest(encoding: 'hex' | 'base64'): string;
  digest(encoding?: 'hex' | 'base64'): Buffer | string {
    const out = Buffer.from(this.finish(concat(this.parts)));
    return encoding ? out.toString(encoding) : out;
  }
}

export function createHash(name: string): Digest {
  return new Digest(hashOf(name));
}

export function createHmac(name: string, key: Data): Digest {
  const hash = hashOf(name);
  const k = bytesOf(key);
  return new Digest((m) => hmac(hash, k, m));
}

/** RFC 8018 §5.2: T_i = U_1 ^ ... ^ U_c, U_1 = PRF(P, S || INT(i)), U_j = PRF(P, U_{j-1}). */
export function pbkdf2Sync(password: Data, salt: Data, iterations: number, keylen: number, digest: string): Buffer {
  const hash = hashOf(digest);
  const p = bytesOf(password);
  const blocks: Uint8Array[] = [];
  for (let i = 1, have = 0; have < keylen; i++) {
    let u = hmac(hash, p, concat([bytesOf(salt), Uint8Array.of(i >>> 24, i >>> 16, i >>> 8, i)]));
    const t = u.slice();
    for (let j = 1; j < iterations; j++) {
      u = hmac(hash, p, u);
      for (let b = 0; b < t.length; b++) t[b]! ^= u[b]!;
    }
    blocks.push(t);
    have += t.length;
  }
  return Buffer.from(concat(blocks).subarray(0, keylen));
}

/** Compares every byte whatever the first difference (the point of Node's function). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
