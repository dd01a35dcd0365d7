import { describe, expect, it } from 'vitest';
import { SASL_FAILURE_CONDITIONS, saslFailureSection, type SaslFailureCondition } from '../../../machines/conditions.js';
import { NS } from '../../../machines/ns.js';
import type { ReceivingEntityMachineInput } from '../../../machines/receiving/index.js';
import { el } from '../../../machines/xml.js';
import {
  USER,
  PASSWORD,
  abort,
  auth,
  credentials,
  element,
  header,
  plainAuth,
  plainData,
  response,
  saslFailureOf,
  scramAuth,
  sent,
  startServer,
  streamErrorOf,
  throughTls,
  types,
  type Harness,
} from './harness.js';

interface Case {
  readonly input?: Partial<ReceivingEntityMachineInput>;
  /** Bring the server to the point where the failure is answered; returns the commands of the last step. */
  readonly run: (h: Harness) => ReturnType<Harness['take']>;
  /** After TLS (default) or on the first stream. */
  readonly tls?: boolean;
}

/** One scenario per §6.5 condition, each through client behaviour or a host answer. */
const CASES: Record<SaslFailureCondition, Case> = {
  aborted: {
    run: (h) => {
      h.send(auth('SCRAM-SHA-256', undefined)); // empty challenge outstanding
      return h.step(abort());
    },
  },
  'account-disabled': { run: (h) => plainAuth(h, credentials({ disabled: true })) },
  'credentials-expired': { run: (h) => plainAuth(h, credentials({ expired: true })) },
  'encryption-required': {
    input: { tls: 'optional' },
    tls: false,
    run: (h) => h.step(auth('PLAIN', plainData(USER, PASSWORD))),
  },
  'incorrect-encoding': { run: (h) => h.step(auth('PLAIN', 'not base64!')) },
  'invalid-authzid': {
    run: (h) => {
      h.send(auth('PLAIN', plainData(USER, PASSWORD, `romeo@im.example.com`)));
      return h.step({ type: 'CREDENTIALS', username: USER, credentials: credentials() });
    },
  },
  'invalid-mechanism': { run: (h) => h.step(auth('CRAM-MD5')) },
  'malformed-request': { run: (h) => h.step(auth('PLAIN', plainData('', PASSWORD))) },
  'mechanism-too-weak': { input: { mechanisms: ['SCRAM-SHA-256'] }, run: (h) => h.step(auth('PLAIN', plainData(USER, PASSWORD))) },
  'not-authorized': {
    run: (h) => {
      h.send(auth('PLAIN', plainData(USER, 'wrong password')));
      return h.step({ type: 'CREDENTIALS', username: USER, credentials: credentials() });
    },
  },
  'temporary-auth-failure': {
    run: (h) => {
      h.send(auth('PLAIN', plainData(USER, PASSWORD)));
      return h.step({ type: 'CREDENTIALS', username: USER, credentials: null, unavailable: true });
    },
  },
};

describe('receiving entity: SASL failures (RFC 6120 §6.4.5, §6.5)', () => {
  for (const condition of SASL_FAILURE_CONDITIONS) {
    it(`RFC 6120 §${saslFailureSection(condition)} ${condition}: <failure/>, the stream stays, a retry succeeds`, () => {
      const c = CASES[condition];
      const h = startServer({ tls: 'required', ...c.input });
      if (c.tls === false) h.send(header());
      else throughTls(h);
      const out = c.run(h);
      expect(sent(out).filter((e) => e.xmlns === NS.SASL)).toEqual([el('failure', NS.SASL, {}, el(condition, NS.SASL))]);
      expect(types(out)).not.toContain('closeStream');
      expect(h.at()).toEqual(['open.negotiating.saslNegotiation.featuresSent']);
      // §6.4.5: the client may try again on the same stream
      const retry = c.input?.mechanisms?.includes('PLAIN') === false || c.tls === false ? scramAuth(h, 'SCRAM-SHA-256') : plainAuth(h);
      expect(types(retry)).toContain('send:success');
    });
  }

  it('§6.5.10 no such user and a wrong password get the same answer (no directory harvesting)', () => {
    const a = startServer();
    throughTls(a);
    const b = startServer();
    throughTls(b);
    expect(sent(plainAuth(a, null))).toEqual(sent(CASES['not-authorized'].run(b)));
    // SCRAM with an unknown user still gets a server-first challenge, and fails at the proof
    const scram = startServer();
    throughTls(scram);
    expect(saslFailureOf(scramAuthUnknown(scram))).toBe('not-authorized');
  });

  it('§6.5.4 with TLS required, any <auth/> before TLS gets encryption-required (no mechanisms were offered, §6.3.4)', () => {
    const h = startServer({ tls: 'required' });
    h.send(header());
    expect(saslFailureOf(h.step(auth('SCRAM-SHA-256', 'biwsbj1qdWxpZXQscj1hYmM=')))).toBe('encryption-required');
    expect(h.at()).toEqual(['open.negotiating.tlsNegotiation.featuresSent']);
    // STARTTLS is still possible afterwards
    expect(types(h.step(element(el('starttls', NS.TLS))))).toEqual(['send:proceed', 'startTls']);
  });

  it('§6.5.7 invalid-mechanism also when the mechanism attribute is missing', () => {
    const h = startServer();
    throughTls(h);
    expect(saslFailureOf(h.step(auth(undefined, plainData(USER, PASSWORD))))).toBe('invalid-mechanism');
  });

  it('§6.5.5 incorrect-encoding for a <response/> that is not base 64', () => {
    const h = startServer();
    throughTls(h);
    h.send(auth('SCRAM-SHA-1'));
    expect(saslFailureOf(h.step(response('***')))).toBe('incorrect-encoding');
  });

  it('§6.5.8 malformed-request for a <response/> or a server-only SASL element with no challenge outstanding', () => {
    const h = startServer();
    throughTls(h);
    expect(saslFailureOf(h.step(response('AAAA')))).toBe('malformed-request');
    expect(saslFailureOf(h.step(element(el('success', NS.SASL))))).toBe('malformed-request');
  });

  it('§6.4.4 <abort/> while the credentials lookup runs: aborted, and the late answer is ignored', () => {
    const h = startServer();
    throughTls(h);
    h.send(auth('PLAIN', plainData(USER, PASSWORD)));
    expect(saslFailureOf(h.step(abort()))).toBe('aborted');
    expect(h.step({ type: 'CREDENTIALS', username: USER, credentials: credentials() })).toEqual([]);
  });

  it('§6.4.5 retry limit: the maxAuthAttempts-th failure is followed by <policy-violation/>', () => {
    const h = startServer({ maxAuthAttempts: 3 });
    throughTls(h);
    expect(saslFailureOf(h.step(auth('CRAM-MD5')))).toBe('invalid-mechanism');
    expect(saslFailureOf(h.step(abort()))).toBe('aborted'); // every failure counts
    const last = h.step(auth('PLAIN', 'not base64!'));
    expect(types(last)).toEqual(['send:failure', 'send:error', 'closeStream']);
    expect(saslFailureOf(last)).toBe('incorrect-encoding');
    expect(streamErrorOf(last)).toBe('policy-violation');
    expect(h.at()).toEqual(['closing']);
    expect(h.step({ type: 'STREAM_CLOSE' })).toEqual([
      { type: 'closeSocket' },
      {
        type: 'ended',
        outcome: { kind: 'auth-failed', condition: 'policy-violation', text: 'too many failed authentication attempts', rfc: '6120 §4.9.3.14' },
      },
    ]);
  });

  it('§6.4.5 failures before TLS count as well (no reset of the limit by STARTTLS)', () => {
    const h = startServer({ maxAuthAttempts: 2 });
    h.send(header());
    expect(saslFailureOf(h.step(auth('PLAIN', plainData(USER, PASSWORD))))).toBe('encryption-required');
    h.send(element(el('starttls', NS.TLS)));
    h.send({ type: 'TLS_ESTABLISHED' });
    h.send(header());
    expect(streamErrorOf(h.step(auth('X')))).toBe('policy-violation');
  });
});

/** SCRAM-SHA-256 for a user the store does not know: a challenge (fake salt), then not-authorized at the proof. */
function scramAuthUnknown(h: Harness) {
  h.take();
  h.send(auth('SCRAM-SHA-256', Buffer.from('n,,n=nobody,r=abcdefghijklmnop').toString('base64')));
  h.send({ type: 'CREDENTIALS', username: 'nobody', credentials: null });
  const challenge = sent(h.take()).find((e) => e.name === 'challenge');
  if (!challenge) throw new Error('expected a challenge for an unknown user');
  const serverFirst = Buffer.from(String(challenge.children[0]), 'base64').toString();
  const nonce = /r=([^,]+)/.exec(serverFirst)![1]!;
  const final = `c=biws,r=${nonce},p=${Buffer.alloc(32).toString('base64')}`;
  return h.step(response(Buffer.from(final).toString('base64')));
}
