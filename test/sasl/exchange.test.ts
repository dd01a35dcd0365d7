/** Full client↔server exchanges over the SASL functions (RFC 6120 §6.4), for each mechanism. */
import { describe, expect, it } from 'vitest';
import {
  clientChallenge,
  clientStart,
  clientSuccess,
  deriveCredentials,
  serverResponse,
  serverStart,
  serverWithCredentials,
  type MechanismName,
  type SaslContext,
  type ServerStep,
  type StoredCredentials,
} from '../../machines/sasl/index.js';
import { fromBase64 } from '../../machines/sasl/encoding.js';
import { bytes, exchange, seededRandom, text } from './helpers.js';

const MECHANISMS: MechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];
const SCRAM = ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const;

const romeo = deriveCredentials('r0m30myr0m30', { random: seededRandom('romeo') });
const accounts: Record<string, StoredCredentials> = {
  romeo,
  juliet: deriveCredentials('Wherefore art thou', { random: seededRandom('juliet') }),
  'a,b=c': deriveCredentials('commas,and=equals', { random: seededRandom('odd') }),
  banished: { ...romeo, disabled: true },
  stale: { ...romeo, expired: true },
};
const lookup = (u: string): StoredCredentials | null => accounts[u] ?? null;

function ctxs(seed: string): { clientCtx: SaslContext; serverCtx: SaslContext } {
  return { clientCtx: { random: seededRandom(`${seed}/c`) }, serverCtx: { random: seededRandom(`${seed}/s`) } };
}

function failure(step: ServerStep): string | undefined {
  return step.kind === 'failure' ? step.condition : undefined;
}

describe.each(MECHANISMS)('RFC 6120 §6.4 exchange with %s', (mechanism) => {
  const run = (username: string, password: string, extra: { authzid?: string; initialResponse?: boolean } = {}) =>
    exchange({ mechanism, creds: { username, password, ...(extra.authzid ? { authzid: extra.authzid } : {}) }, accounts: lookup, ...ctxs(`${mechanism}/${username}`), ...(extra.initialResponse === false ? { initialResponse: false } : {}) });

  it('§6.4.6 success with the right password, and the client accepts the outcome', () => {
    const out = run('romeo', 'r0m30myr0m30');
    expect(out.server).toMatchObject({ kind: 'success', username: 'romeo' });
    expect(out.client).toEqual({ ok: true });
    expect(out.lookedUp).toBe('romeo');
    // SCRAM: c2s first, s2c challenge, c2s final, s2c v=; PLAIN: one message.
    expect(out.wire.length).toBe(mechanism === 'PLAIN' ? 1 : 4);
  });

  it('§6.4.2 no initial response: the server sends an empty challenge, the client answers with its first message', () => {
    const out = run('romeo', 'r0m30myr0m30', { initialResponse: false });
    expect(out.wire[0]).toBe('s2c:=');
    expect(out.server).toMatchObject({ kind: 'success', username: 'romeo' });
    expect(out.client).toEqual({ ok: true });
  });

  it('§6.5.10 wrong password: not-authorized', () => {
    expect(failure(run('romeo', 'r0m30myr0m31').server)).toBe('not-authorized');
  });

  it('§6.5.10 unknown user: not-authorized, like a wrong password', () => {
    expect(failure(run('mercutio', 'r0m30myr0m30').server)).toBe('not-authorized');
  });

  it('§6.5.2 account-disabled once the password is proven; a wrong password still reads not-authorized', () => {
    expect(failure(run('banished', 'r0m30myr0m30').server)).toBe('account-disabled');
    expect(failure(run('banished', 'guess').server)).toBe('not-authorized');
  });

  it('§6.5.3 credentials-expired once the password is proven', () => {
    expect(failure(run('stale', 'r0m30myr0m30').server)).toBe('credentials-expired');
    expect(failure(run('stale', 'guess').server)).toBe('not-authorized');
  });

  it('§6.3.8 the authzid is passed through to the success step for the machine to check', () => {
    const out = run('romeo', 'r0m30myr0m30', { authzid: 'juliet@capulet.lit' });
    expect(out.server).toMatchObject({ kind: 'success', username: 'romeo', authzid: 'juliet@capulet.lit' });
  });

  it('user names and passwords with "," and "=" survive the exchange (RFC 5802 §5.1 =2C / =3D)', () => {
    const out = run('a,b=c', 'commas,and=equals', { authzid: 'x,y=z@example.com' });
    expect(out.server).toMatchObject({ kind: 'success', username: 'a,b=c', authzid: 'x,y=z@example.com' });
    if (mechanism !== 'PLAIN') expect(text(fromBase64(out.wire[0]!.slice(4)))).toMatch(/^n,a=x=2Cy=3Dz@example\.com,n=a=2Cb=3Dc,r=/);
  });

  it('§6.5.7 a mechanism name outside the implemented set is invalid-mechanism', () => {
    expect(serverStart('DIGEST-MD5' as MechanismName, bytes('x'), { random: seededRandom('x') })).toEqual({ kind: 'failure', condition: 'invalid-mechanism' });
  });

  it('§6.5.8 an empty initial response ("=") is malformed-request', () => {
    expect(failure(serverStart(mechanism, new Uint8Array(0), { random: seededRandom('x') }))).toBe('malformed-request');
  });

  it('§6.5.8 non-UTF-8 data is malformed-request', () => {
    expect(failure(serverStart(mechanism, new Uint8Array([0x6e, 0x2c, 0x2c, 0xff, 0xfe]), { random: seededRandom('x') }))).toBe('malformed-request');
  });
});

describe.each(SCRAM)('RFC 5802 details with %s', (mechanism) => {
  const { clientCtx, serverCtx } = ctxs(mechanism);
  const sctx = serverCtx;

  /** Client start + server lookup + server-first, returning both states and the texts. */
  function toServerFirst(username: string, creds: StoredCredentials | null, password = 'r0m30myr0m30') {
    const c = clientStart(mechanism, { username, password }, clientCtx);
    if (c.kind !== 'respond') throw new Error(c.reason);
    const l = serverStart(mechanism, c.data, sctx);
    if (l.kind !== 'lookup') throw new Error(`expected lookup, got ${l.kind}`);
    const ch = serverWithCredentials(l.state, creds, sctx);
    if (ch.kind !== 'challenge') throw new Error(`expected challenge, got ${ch.kind}`);
    return { clientFirst: text(c.data), client: c.state, server: ch.state, serverFirst: text(ch.data), challenge: ch.data };
  }

  function shape(serverFirst: string) {
    const m = /^r=([^,]+),s=([^,]+),i=(\d+)$/.exec(serverFirst);
    if (!m) throw new Error(`not a server-first-message: ${serverFirst}`);
    return { nonceLength: m[1]!.length, saltBytes: fromBase64(m[2]!)?.byteLength, salt: m[2], iterations: Number(m[3]) };
  }

  it('§5.1 unknown user: server-first-message has the shape of a real one, and a stable salt per name', () => {
    const real = shape(toServerFirst('romeo', romeo).serverFirst);
    const fake1 = shape(toServerFirst('mercutio', null).serverFirst);
    const fake2 = shape(toServerFirst('mercutio', null).serverFirst);
    const other = shape(toServerFirst('tybalt', null).serverFirst);
    expect(fake1).toMatchObject({ nonceLength: real.nonceLength, saltBytes: real.saltBytes, iterations: real.iterations });
    expect(fake2.salt).toBe(fake1.salt);
    expect(other.salt).not.toBe(fake1.salt);
  });

  it('§5.1 with the server secret, the fake salt is stable but not computable without it', () => {
    const keyed = (secret: string) => {
      const c = clientStart(mechanism, { username: 'mercutio', password: 'x' }, clientCtx);
      if (c.kind !== 'respond') throw new Error(c.reason);
      const l = serverStart(mechanism, c.data, sctx);
      if (l.kind !== 'lookup') throw new Error(l.kind);
      const ch = serverWithCredentials(l.state, null, { ...sctx, fakeSaltSecret: secret });
      if (ch.kind !== 'challenge') throw new Error(ch.kind);
      return shape(text(ch.data)).salt;
    };
    expect(keyed('s3cret')).toBe(keyed('s3cret'));
    expect(keyed('s3cret')).not.toBe(keyed('other'));
    expect(keyed('s3cret')).not.toBe(shape(toServerFirst('mercutio', null).serverFirst).salt);
  });

  it('§5.1 a wrong password and an unknown user fail with the very same step (condition, no text)', () => {
    const final = (username: string, creds: StoredCredentials | null) => {
      const f = toServerFirst(username, creds, 'wrong password');
      const c = clientChallenge(f.client, f.challenge, clientCtx);
      if (c.kind !== 'respond') throw new Error(c.reason);
      const step = serverResponse(f.server, c.data, sctx);
      return step.kind === 'failure' ? { kind: step.kind, condition: step.condition, text: step.text } : step.kind;
    };
    expect(final('romeo', romeo)).toEqual({ kind: 'failure', condition: 'not-authorized', text: undefined });
    expect(final('mercutio', null)).toEqual(final('romeo', romeo));
  });

  it('nonce: server nonce = client nonce + fresh printable part; fresh per exchange', () => {
    const a = toServerFirst('romeo', romeo);
    const b = toServerFirst('romeo', romeo);
    const cn = /,r=([^,]+)$/.exec(a.clientFirst)![1]!;
    const sn = /^r=([^,]+)/.exec(a.serverFirst)![1]!;
    expect(sn.startsWith(cn) && sn.length > cn.length).toBe(true);
    expect(sn).toMatch(/^[\x21-\x2B\x2D-\x7E]+$/);
    expect(b.serverFirst).not.toBe(a.serverFirst);
  });

  it('server rejects a client-final whose nonce differs from the one it sent (not-authorized)', () => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    const tampered = text(fin.data).replace(/,r=([^,]+),/, (_m, r: string) => `,r=${r.slice(0, -1)}${r.endsWith('A') ? 'B' : 'A'},`);
    expect(failure(serverResponse(x.server, bytes(tampered), sctx))).toBe('not-authorized');
  });

  it('server rejects a proof with one flipped bit (not-authorized) and c= that does not match the gs2 header', () => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    const msg = text(fin.data);
    const proof = fromBase64(/,p=(.+)$/.exec(msg)![1]!)!;
    proof[0] = proof[0]! ^ 1;
    expect(failure(serverResponse(x.server, bytes(msg.replace(/,p=.+$/, `,p=${Buffer.from(proof).toString('base64')}`)), sctx))).toBe('not-authorized');
    // c=eSws is "y,,": not the header this client sent ("n,,"); RFC 5802 §6 "MUST always validate".
    expect(failure(serverResponse(x.server, bytes(msg.replace('c=biws', 'c=eSws')), sctx))).toBe('not-authorized');
    // And the untouched message still succeeds against the same state.
    expect(serverResponse(x.server, fin.data, sctx).kind).toBe('success');
  });

  it.each([
    ['p= not base 64', (m: string) => m.replace(/,p=.+$/, ',p=***')],
    ['c= not base 64', (m: string) => m.replace('c=biws', 'c=b iws')],
    ['missing proof', (m: string) => m.replace(/,p=.+$/, '')],
    ['attributes out of order', (m: string) => m.replace(/^c=([^,]+),r=([^,]+)/, 'r=$2,c=$1')],
    ['NUL in the message', (m: string) => `${m}\0`],
  ])('server: malformed client-final (%s) is malformed-request', (_why, mutate) => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    expect(failure(serverResponse(x.server, bytes(mutate(text(fin.data))), sctx))).toBe('malformed-request');
  });

  it('server ignores an unknown optional extension in client-final (§5.1 "MUST be ignored")', () => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    // The extension is part of client-final-message-without-proof, hence of AuthMessage: the
    // proof no longer matches, so the outcome is not-authorized, not malformed-request.
    expect(failure(serverResponse(x.server, bytes(text(fin.data).replace(',p=', ',x=ext,p=')), sctx))).toBe('not-authorized');
  });

  it.each([
    ['no gs2 header', 'n=user,r=abc'],
    ['unknown gs2 flag', 'q,,n=user,r=abc'],
    ['"p" flag: channel binding under a non-PLUS name (§6)', 'p=tls-unique,,n=user,r=abc'],
    ['mandatory extension m= (§5.1)', 'n,,m=ext,n=user,r=abc'],
    ['missing nonce', 'n,,n=user'],
    ['nonce with a non-printable character', 'n,,n=user,r=ab\u0001c'],
    ['nonce with non-ASCII', 'n,,n=user,r=abé'],
    ['empty user name', 'n,,n=,r=abc'],
    ['"=" escape other than =2C / =3D (§5.1 MUST fail)', 'n,,n=us=3Fer,r=abc'],
    ['bad escape in authzid', 'n,a=x=41,n=user,r=abc'],
    ['authzid slot not a=', 'n,b=x,n=user,r=abc'],
    ['user name that SASLprep prohibits', 'n,,n=us\u0007er,r=abc'],
    ['malformed extension', 'n,,n=user,r=abc,oops'],
  ])('server: client-first-message with %s is malformed-request', (_why, message) => {
    expect(failure(serverStart(mechanism, bytes(message), sctx))).toBe('malformed-request');
  });

  it('server accepts the "y" flag (client supports binding, thinks we do not: true, RFC 5802 §6)', () => {
    const l = serverStart(mechanism, bytes('y,,n=romeo,r=abcdef'), sctx);
    expect(l).toMatchObject({ kind: 'lookup', username: 'romeo' });
  });

  it('server prepares the user name with SASLprep (§5.1): U+2168 ROMAN NUMERAL NINE looks up "IX"', () => {
    expect(serverStart(mechanism, bytes('n,,n=\u2168,r=abcdef'), sctx)).toMatchObject({ kind: 'lookup', username: 'IX' });
  });

  it('client rejects a tampered server signature, a server error, a missing signature and an early success', () => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    const ok = serverResponse(x.server, fin.data, sctx);
    if (ok.kind !== 'success' || !ok.additionalData) throw new Error('expected success with v=');
    expect(clientSuccess(fin.state, ok.additionalData)).toEqual({ ok: true });
    const sig = fromBase64(text(ok.additionalData).slice(2))!;
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x80;
    expect(clientSuccess(fin.state, bytes(`v=${Buffer.from(sig).toString('base64')}`)).ok).toBe(false);
    expect(clientSuccess(fin.state, bytes('e=invalid-proof'))).toEqual({ ok: false, reason: 'server error: invalid-proof' });
    expect(clientSuccess(fin.state, undefined).ok).toBe(false);
    expect(clientSuccess(fin.state, new Uint8Array(0)).ok).toBe(false);
    expect(clientSuccess(fin.state, bytes('v=not base64')).ok).toBe(false);
    // <success/> before the client even saw server-first: the server proved nothing.
    expect(clientSuccess(x.client, ok.additionalData).ok).toBe(false);
  });

  it('full exchange with a tampered server signature on the wire: server says success, client refuses', () => {
    const out = exchange({
      mechanism,
      creds: { username: 'romeo', password: 'r0m30myr0m30' },
      accounts: lookup,
      ...ctxs('tamper'),
      tamper: (dir, wire, i) => (dir === 's2c' && i === 3 ? Buffer.from(`v=${Buffer.alloc(mechanism === 'SCRAM-SHA-1' ? 20 : 32).toString('base64')}`).toString('base64') : wire),
    });
    expect(out.server.kind).toBe('success');
    expect(out.client).toEqual({ ok: false, reason: 'server signature does not verify' });
  });

  it.each([
    ['a nonce that does not start with the client nonce', (sf: string) => sf.replace(/^r=./, 'r=\x7E')],
    ['a nonce equal to the client nonce (no server part)', (sf: string, cn: string) => sf.replace(/^r=[^,]+/, `r=${cn}`)],
    ['a server-error', () => 'e=unknown-user'],
    ['a mandatory extension', (sf: string) => `m=x,${sf}`],
    ['a salt that is not base 64', (sf: string) => sf.replace(/,s=[^,]+/, ',s=@@@@')],
    ['an iteration count of 0', (sf: string) => sf.replace(/,i=\d+/, ',i=0')],
    ['an iteration count below 4096 (RFC 7677 §4)', (sf: string) => sf.replace(/,i=\d+/, ',i=4095')],
    ['an iteration count above the client bound', (sf: string) => sf.replace(/,i=\d+/, ',i=100000000')],
    ['missing iteration count', (sf: string) => sf.replace(/,i=\d+/, '')],
  ])('client refuses a server-first-message with %s', (_why, mutate) => {
    const x = toServerFirst('romeo', romeo);
    const cn = /,r=([^,]+)$/.exec(x.clientFirst)![1]!;
    expect(clientChallenge(x.client, bytes(mutate(x.serverFirst, cn)), clientCtx).kind).toBe('error');
  });

  it('client lower iteration bound can be lowered explicitly (ScramClientOptions.minIterations)', () => {
    const weak = deriveCredentials('pw', { random: seededRandom('weak'), iterations: 10 });
    const c = clientStart(mechanism, { username: 'w', password: 'pw' }, clientCtx);
    if (c.kind !== 'respond') throw new Error(c.reason);
    const l = serverStart(mechanism, c.data, sctx);
    if (l.kind !== 'lookup') throw new Error(l.kind);
    const ch = serverWithCredentials(l.state, weak, sctx);
    if (ch.kind !== 'challenge') throw new Error(ch.kind);
    expect(text(ch.data)).toMatch(/,i=10$/);
    expect(clientChallenge(c.state, ch.data, clientCtx).kind).toBe('error');
    const fin = clientChallenge(c.state, ch.data, { ...clientCtx, minIterations: 1 });
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    const done = serverResponse(ch.state, fin.data, sctx);
    expect(done.kind).toBe('success');
    if (done.kind === 'success') expect(clientSuccess(fin.state, done.additionalData)).toEqual({ ok: true });
  });

  it('client accepts server-final-message sent as a challenge followed by an empty success', () => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    const ok = serverResponse(x.server, fin.data, sctx);
    if (ok.kind !== 'success' || !ok.additionalData) throw new Error('expected v=');
    const ack = clientChallenge(fin.state, ok.additionalData, clientCtx);
    expect(ack.kind).toBe('respond');
    if (ack.kind !== 'respond') return;
    expect(ack.data.byteLength).toBe(0);
    expect(clientSuccess(ack.state, undefined)).toEqual({ ok: true });
    expect(clientChallenge(fin.state, bytes('v=AAAA'), clientCtx).kind).toBe('error');
  });

  it('client drops the password from its state once the proof is sent', () => {
    const x = toServerFirst('romeo', romeo);
    const fin = clientChallenge(x.client, x.challenge, clientCtx);
    if (fin.kind !== 'respond') throw new Error(fin.reason);
    expect(JSON.stringify(fin.state)).not.toContain('r0m30myr0m30');
  });

  it('SaltedPassword cache: second login skips PBKDF2 and gives the same proof; keys hide the password', () => {
    const cache = new Map<string, Uint8Array>();
    const ctx: SaslContext = { random: seededRandom('cache'), saltedPasswordCache: cache };
    const once = () => exchange({ mechanism, creds: { username: 'romeo', password: 'r0m30myr0m30' }, accounts: lookup, clientCtx: ctx, serverCtx: sctx });
    expect(once().client).toEqual({ ok: true });
    expect(cache.size).toBe(1);
    expect(once().client).toEqual({ ok: true });
    expect(cache.size).toBe(1);
    const [key] = [...cache.keys()];
    expect(key).toContain(mechanism);
    expect(key).not.toContain('r0m30myr0m30');
    // A different password is a different entry, and still fails.
    expect(failure(exchange({ mechanism, creds: { username: 'romeo', password: 'nope' }, accounts: lookup, clientCtx: ctx, serverCtx: sctx }).server)).toBe('not-authorized');
    expect(cache.size).toBe(2);
  });

  it('SASLprep on passwords (RFC 4013): "I<U+00AD>X" and "<U+2168>" log in to an account whose password is "IX"', () => {
    const ix = deriveCredentials('IX', { random: seededRandom('ix') });
    for (const password of ['I\u00ADX', '\u2168', 'IX']) {
      const out = exchange({ mechanism, creds: { username: 'nine', password }, accounts: () => ix, ...ctxs(password) });
      expect(out.client).toEqual({ ok: true });
    }
    expect(clientStart(mechanism, { username: 'nine', password: 'bell\u0007' }, clientCtx).kind).toBe('error');
  });

  it('server refuses out-of-order calls', () => {
    const x = toServerFirst('romeo', romeo);
    expect(failure(serverWithCredentials(x.server, romeo, sctx))).toBe('malformed-request');
  });
});

describe('deriveCredentials', () => {
  it('stores keys for both SCRAM hashes with distinct fresh salts and 4096 iterations by default', () => {
    const c = deriveCredentials('secret', { random: seededRandom('d') });
    const k1 = c['SCRAM-SHA-1']!;
    const k256 = c['SCRAM-SHA-256']!;
    expect(k1.iterations).toBe(4096);
    expect(k256.iterations).toBe(4096);
    expect(k1.salt).not.toBe(k256.salt);
    expect(fromBase64(k1.storedKey)!.byteLength).toBe(20);
    expect(fromBase64(k256.storedKey)!.byteLength).toBe(32);
    expect(deriveCredentials('secret', { random: seededRandom('e') })['SCRAM-SHA-256']!.salt).not.toBe(k256.salt);
    expect(deriveCredentials('secret', { random: seededRandom('d'), iterations: 5000 })['SCRAM-SHA-1']!.iterations).toBe(5000);
  });

  it('refuses passwords that SASLprep rejects or empties, and unassigned code points in stored strings', () => {
    const random = seededRandom('x');
    expect(() => deriveCredentials('', { random })).toThrow();
    expect(() => deriveCredentials('\u00AD', { random })).toThrow();
    expect(() => deriveCredentials('a\u0000b', { random })).toThrow();
    expect(() => deriveCredentials('a\u{E0001}', { random })).toThrow();
    expect(() => deriveCredentials('a\u0378', { random })).toThrow(); // U+0378 is unassigned
  });
});
