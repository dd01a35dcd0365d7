/** RFC 4616 PLAIN: message syntax and verification against stored SCRAM keys. */
import { describe, expect, it } from 'vitest';
import {
  clientChallenge,
  clientStart,
  clientSuccess,
  deriveCredentials,
  deriveScramKeys,
  serverResponse,
  serverStart,
  serverWithCredentials,
  type ServerStep,
  type StoredCredentials,
} from '../../machines/sasl/index.js';
import { parsePlainMessage, plainMessage } from '../../machines/sasl/plain.js';
import { bytes, seededRandom } from './helpers.js';

const ctx = { random: seededRandom('plain') };

function verify(message: Uint8Array, creds: StoredCredentials | null): ServerStep {
  const l = serverStart('PLAIN', message, ctx);
  return l.kind === 'lookup' ? serverWithCredentials(l.state, creds, ctx) : l;
}

describe('RFC 4616 §2 message = [authzid] UTF8NUL authcid UTF8NUL passwd', () => {
  it('parses all three parts', () => {
    expect(parsePlainMessage(bytes('admin@example.com\0tim\0tanstaaftanstaaf'))).toEqual({ authzid: 'admin@example.com', authcid: 'tim', passwd: 'tanstaaftanstaaf' });
  });

  it('an empty authzid means none was provided', () => {
    expect(parsePlainMessage(bytes('\0tim\0tanstaaftanstaaf'))).toEqual({ authcid: 'tim', passwd: 'tanstaaftanstaaf' });
  });

  it('authcid and passwd are 1*SAFE: empty is rejected', () => {
    expect(parsePlainMessage(bytes('\0\0pw'))).toBeUndefined();
    expect(parsePlainMessage(bytes('\0tim\0'))).toBeUndefined();
    expect(parsePlainMessage(bytes('\0\0'))).toBeUndefined();
  });

  it('NUL MUST NOT appear inside a production: a third NUL is rejected, as is a missing one', () => {
    expect(parsePlainMessage(bytes('\0tim\0pass\0word'))).toBeUndefined();
    expect(parsePlainMessage(bytes('a\0b\0c\0'))).toBeUndefined();
    expect(parsePlainMessage(bytes('tim\0password'))).toBeUndefined();
    expect(parsePlainMessage(bytes('timpassword'))).toBeUndefined();
  });

  it('is UTF-8: multi-byte characters round-trip, ill-formed sequences are rejected', () => {
    const m = plainMessage('jürgen', 'пароль密码🔑', 'ĳ@example.com');
    expect(parsePlainMessage(m)).toEqual({ authzid: 'ĳ@example.com', authcid: 'jürgen', passwd: 'пароль密码🔑' });
    expect(parsePlainMessage(new Uint8Array([0, 0x74, 0, 0xc3, 0x28]))).toBeUndefined(); // C3 28: bad continuation
    expect(parsePlainMessage(new Uint8Array([0, 0x74, 0, 0xed, 0xa0, 0x80]))).toBeUndefined(); // encoded surrogate
  });

  it('accepts productions of 255 octets (the RFC 4616 §2 minimum a server must take)', () => {
    const long = 'é'.repeat(127) + 'x'; // 255 octets
    expect(Buffer.byteLength(long)).toBe(255);
    expect(parsePlainMessage(plainMessage(long, long, long))).toEqual({ authzid: long, authcid: long, passwd: long });
  });
});

describe('RFC 4616 PLAIN verification against stored SCRAM keys', () => {
  const tim = deriveCredentials('tanstaaftanstaaf', { random: seededRandom('tim') });

  it('right password: success with the authcid as user name; the authzid is passed through', () => {
    expect(verify(plainMessage('tim', 'tanstaaftanstaaf'), tim)).toEqual({ kind: 'success', username: 'tim' });
    expect(verify(plainMessage('tim', 'tanstaaftanstaaf', 'Ursel@example.com'), tim)).toEqual({ kind: 'success', username: 'tim', authzid: 'Ursel@example.com' });
  });

  it('§6.5.10 wrong password and unknown user are both not-authorized', () => {
    expect(verify(plainMessage('tim', 'tanstaaf'), tim)).toEqual({ kind: 'failure', condition: 'not-authorized' });
    expect(verify(plainMessage('kurt', 'tanstaaftanstaaf'), null)).toEqual({ kind: 'failure', condition: 'not-authorized' });
  });

  it('falls back to SCRAM-SHA-1 keys when no SCRAM-SHA-256 keys are stored', () => {
    const sha1Only: StoredCredentials = { 'SCRAM-SHA-1': deriveScramKeys('SCRAM-SHA-1', 'pw', bytes('0123456789abcdef'), 4096) };
    expect(verify(plainMessage('tim', 'pw'), sha1Only).kind).toBe('success');
    expect(verify(plainMessage('tim', 'pW'), sha1Only).kind).toBe('failure');
  });

  it('honours the stored iteration count', () => {
    const light = deriveCredentials('pw', { random: seededRandom('l'), iterations: 7 });
    expect(verify(plainMessage('tim', 'pw'), light).kind).toBe('success');
  });

  it('§6.5.2 / §6.5.3 account state is reported only after the password is verified', () => {
    expect(verify(plainMessage('tim', 'tanstaaftanstaaf'), { ...tim, disabled: true })).toEqual({ kind: 'failure', condition: 'account-disabled' });
    expect(verify(plainMessage('tim', 'tanstaaftanstaaf'), { ...tim, expired: true })).toEqual({ kind: 'failure', condition: 'credentials-expired' });
    expect(verify(plainMessage('tim', 'wrong'), { ...tim, disabled: true })).toEqual({ kind: 'failure', condition: 'not-authorized' });
  });

  it('SASLprep on both sides (RFC 4616 §2): a password with a soft hyphen matches the one without', () => {
    expect(verify(plainMessage('tim', 'tanstaaf\u00ADtanstaaf'), tim).kind).toBe('success');
    // Preparation failure SHALL fail verification.
    expect(verify(plainMessage('tim', 'tanstaaf\u0007'), tim)).toEqual({ kind: 'failure', condition: 'not-authorized' });
  });

  it('§6.5.8 a malformed message is malformed-request', () => {
    expect(verify(bytes('tim\0password'), tim)).toEqual({ kind: 'failure', condition: 'malformed-request' });
    expect(verify(bytes('\0\0'), tim)).toEqual({ kind: 'failure', condition: 'malformed-request' });
  });

  it('§6.4.2 without initial response: empty challenge, then the message as a response', () => {
    const step = serverStart('PLAIN', undefined, ctx);
    expect(step.kind).toBe('challenge');
    if (step.kind !== 'challenge') return;
    expect(step.data.byteLength).toBe(0);
    const c = clientStart('PLAIN', { username: 'tim', password: 'tanstaaftanstaaf' }, ctx);
    if (c.kind !== 'respond') throw new Error(c.reason);
    const again = clientChallenge(c.state, step.data, ctx);
    if (again.kind !== 'respond') throw new Error(again.reason);
    expect(again.data).toEqual(c.data);
    const l = serverResponse(step.state, again.data, ctx);
    if (l.kind !== 'lookup') throw new Error(l.kind);
    expect(serverWithCredentials(l.state, tim, ctx)).toEqual({ kind: 'success', username: 'tim' });
    // Any non-empty challenge is a protocol error for PLAIN; a second response to the server too.
    expect(clientChallenge(c.state, bytes('x'), ctx).kind).toBe('error');
    expect(serverResponse(l.state, c.data, ctx).kind).toBe('failure');
  });

  it('client: refuses empty parts and NULs; success carries no additional data', () => {
    expect(clientStart('PLAIN', { username: '', password: 'x' }, ctx).kind).toBe('error');
    expect(clientStart('PLAIN', { username: 'a', password: '' }, ctx).kind).toBe('error');
    expect(clientStart('PLAIN', { username: 'a\0b', password: 'x' }, ctx).kind).toBe('error');
    const c = clientStart('PLAIN', { username: 'tim', password: 'pw', authzid: 'x@y' }, ctx);
    if (c.kind !== 'respond') throw new Error(c.reason);
    expect(c.data).toEqual(bytes('x@y\0tim\0pw'));
    expect(clientSuccess(c.state, undefined)).toEqual({ ok: true });
    expect(clientSuccess(c.state, bytes('v=xx')).ok).toBe(false);
  });
});
