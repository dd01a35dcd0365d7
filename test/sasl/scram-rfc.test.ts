/**
 * The published SCRAM examples, reproduced byte for byte on both sides:
 * RFC 5802 §5 (SCRAM-SHA-1), RFC 7677 §3 (SCRAM-SHA-256) and RFC 6120 §9.2.1 steps 9–12.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeSaslData,
  deriveScramKeys,
  encodeSaslData,
  serverResponse,
  serverStart,
  type ScramKeys,
} from '../../machines/sasl/index.js';
import { fromBase64 } from '../../machines/sasl/encoding.js';
import {
  clientFirstMessage,
  scramClientChallenge,
  scramClientStart,
  scramClientSuccess,
  scramServerFirst,
} from '../../machines/sasl/scram.js';
import { bytes, text } from './helpers.js';

interface Vector {
  readonly title: string;
  readonly mechanism: 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
  readonly username: string;
  readonly password: string;
  readonly clientNonce: string;
  readonly serverNonce: string;
  readonly clientFirst: string;
  readonly serverFirst: string;
  readonly clientFinal: string;
  readonly serverFinal: string;
}

const VECTORS: Vector[] = [
  {
    title: 'RFC 5802 §5 SCRAM-SHA-1',
    mechanism: 'SCRAM-SHA-1',
    username: 'user',
    password: 'pencil',
    clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
    serverNonce: '3rfcNHYJY1ZVvWVs7j',
    clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  {
    title: 'RFC 7677 §3 SCRAM-SHA-256',
    mechanism: 'SCRAM-SHA-256',
    username: 'user',
    password: 'pencil',
    clientNonce: 'rOprNGfwEbeRWgbNEkqO',
    serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
  {
    title: 'RFC 6120 §9.2.1 steps 9–12 SCRAM-SHA-1',
    mechanism: 'SCRAM-SHA-1',
    username: 'juliet',
    password: 'r0m30myr0m30',
    clientNonce: 'oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA',
    serverNonce: 'e124695b-69a9-4de6-9c30-b51b3808c59e',
    clientFirst: 'n,,n=juliet,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA',
    serverFirst:
      'r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AAe124695b-69a9-4de6-9c30-b51b3808c59e,s=NjhkYTM0MDgtNGY0Zi00NjdmLTkxMmUtNDlmNTNmNDNkMDMz,i=4096',
    clientFinal: 'c=biws,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AAe124695b-69a9-4de6-9c30-b51b3808c59e,p=UA57tM/SvpATBkH2FXs0WDXvJYw=',
    serverFinal: 'v=pNNDFVEQxuXxCoSEiW8GEZ+1RSo=',
  },
];

const noRandom = { random: (): Uint8Array => { throw new Error('the published examples need no randomness'); } };

/** The server's stored keys for the example account, computed from the published salt. */
function exampleKeys(v: Vector): ScramKeys {
  const salt = /,s=([^,]+),i=(\d+)/.exec(v.serverFirst);
  const saltBytes = fromBase64(salt?.[1] ?? '');
  if (!saltBytes) throw new Error('bad vector');
  return deriveScramKeys(v.mechanism, v.password, saltBytes, Number(salt?.[2]));
}

describe.each(VECTORS)('$title', (v) => {
  it('client-first-message matches the published text', () => {
    expect(clientFirstMessage(v.username, v.clientNonce)).toBe(v.clientFirst);
    const start = scramClientStart(v.mechanism, { username: v.username, password: v.password }, v.clientNonce);
    expect(start.kind).toBe('respond');
    if (start.kind === 'respond') expect(text(start.data)).toBe(v.clientFirst);
  });

  it('client computes the published ClientProof and accepts the published ServerSignature', () => {
    const start = scramClientStart(v.mechanism, { username: v.username, password: v.password }, v.clientNonce);
    if (start.kind !== 'respond') throw new Error(start.reason);
    const final = scramClientChallenge(start.state, bytes(v.serverFirst), noRandom);
    if (final.kind !== 'respond') throw new Error(final.reason);
    expect(text(final.data)).toBe(v.clientFinal);
    expect(scramClientSuccess(final.state, bytes(v.serverFinal))).toEqual({ ok: true });
    // One flipped bit in the published signature is refused.
    const forged = v.serverFinal.replace(/^v=(.)/, (_m, c: string) => `v=${c === 'A' ? 'B' : 'A'}`);
    expect(scramClientSuccess(final.state, bytes(forged)).ok).toBe(false);
  });

  it('server answers the published client messages with the published server messages', () => {
    const first = serverStart(v.mechanism, bytes(v.clientFirst), noRandom);
    if (first.kind !== 'lookup') throw new Error(`expected lookup, got ${first.kind}`);
    expect(first.username).toBe(v.username);
    expect(first.authzid).toBeUndefined();
    const keys = exampleKeys(v);
    const challenge = scramServerFirst(first.state, { [v.mechanism]: keys }, v.serverNonce);
    if (challenge.kind !== 'challenge') throw new Error(`expected challenge, got ${challenge.kind}`);
    expect(text(challenge.data)).toBe(v.serverFirst);
    const done = serverResponse(challenge.state, bytes(v.clientFinal), noRandom);
    expect(done).toEqual({ kind: 'success', username: v.username, additionalData: bytes(v.serverFinal) });
  });
});

describe('RFC 6120 §9.2.1 wire form of the SCRAM example', () => {
  // The base 64 text of steps 9–12 with the RFC's line wrapping removed.
  const steps = {
    auth: 'biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==',
    challenge:
      'cj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQWUxMjQ2OTViLTY5YTktNGRlNi05YzMwLWI1MWIzODA4YzU5ZSxzPU5qaGtZVE0wTURndE5HWTBaaTAwTmpkbUxUa3hNbVV0TkRsbU5UTm1ORE5rTURNeixpPTQwOTY=',
    response:
      'Yz1iaXdzLHI9b01zVEFBd0FBQUFNQUFBQU5QMFRBQUFBQUFCUFUwQUFlMTI0Njk1Yi02OWE5LTRkZTYtOWMzMC1iNTFiMzgwOGM1OWUscD1VQTU3dE0vU3ZwQVRCa0gyRlhzMFdEWHZKWXc9',
    success: 'dj1wTk5ERlZFUXh1WHhDb1NFaVc4R0VaKzFSU289',
  };
  const v = VECTORS[2]!;

  it('every element body decodes to the message the RFC shows and re-encodes to the same text', () => {
    const pairs: [string, string][] = [
      [steps.auth, v.clientFirst],
      [steps.challenge, v.serverFirst],
      [steps.response, v.clientFinal],
      [steps.success, v.serverFinal],
    ];
    for (const [wire, message] of pairs) {
      expect(text(decodeSaslData(wire))).toBe(message);
      expect(encodeSaslData(bytes(message))).toBe(wire);
    }
  });
});
