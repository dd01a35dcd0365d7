/**
 * Initiating entity, scripted server: SASL (RFC 6120 §6). The SCRAM server side comes from
 * machines/sasl (the same functions the receiving entity uses), driven by hand.
 */
import { describe, expect, it } from 'vitest';
import { SASL_FAILURE_CONDITIONS, saslFailureSection } from '../../../machines/conditions.js';
import { NS } from '../../../machines/ns.js';
import type { MechanismName } from '../../../machines/protocol.js';
import {
  decodeSaslData,
  encodeSaslData,
  serverResponse,
  serverStart,
  serverWithCredentials,
  type SaslState,
} from '../../../machines/sasl/index.js';
import { text, type XmlElement } from '../../../machines/xml.js';
import {
  BARE,
  PASSWORD,
  USER,
  b64,
  bindFeature,
  challenge,
  counterRandom,
  features,
  lastSent,
  mechanisms,
  saslFailure,
  scriptedTls,
  sent,
  serverHeader,
  startClient,
  storedCredentials,
  streamErrorOf,
  success,
  types,
  type ClientHarness,
} from './harness.js';

const serverCtx = { random: counterRandom(55) };

/** Run the server half of SCRAM by hand until the server-final message; returns it (base64) and the client harness. */
function scramToFinal(mechanism: MechanismName, opts: { initialResponse?: boolean } = {}): { h: ClientHarness; serverFinal: string } {
  const h = startClient({ mechanisms: [mechanism], initialResponse: opts.initialResponse ?? true });
  scriptedTls(h);
  h.take();
  h.send(features(mechanisms('SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN')));
  let auth = lastSent(h)!;
  expect(auth).toMatchObject({ name: 'auth', attrs: { mechanism } });
  if (opts.initialResponse === false) {
    expect(auth.children).toEqual([]);
    h.send(challenge()); // §6.4.2: the empty challenge asks for the first message
    auth = lastSent(h)!;
    expect(auth.name).toBe('response');
  }
  const first = decodeSaslData(text(auth))!;
  const lookup = serverStart(mechanism, first, serverCtx);
  if (lookup.kind !== 'lookup') throw new Error(lookup.kind);
  const serverFirst = serverWithCredentials(lookup.state, storedCredentials(), serverCtx);
  if (serverFirst.kind !== 'challenge') throw new Error(serverFirst.kind);
  h.send(challenge(encodeSaslData(serverFirst.data)));
  const clientFinal = lastSent(h)!;
  expect(clientFinal.name).toBe('response');
  const final = serverResponse(serverFirst.state as SaslState, decodeSaslData(text(clientFinal))!, serverCtx);
  if (final.kind !== 'success') throw new Error(`server says ${final.kind}`);
  return { h, serverFinal: encodeSaslData(final.additionalData!) };
}

function flipLastChar(b64text: string): string {
  const raw = Buffer.from(b64text, 'base64').toString('utf8'); // v=<base64 signature>
  const sig = Buffer.from(raw.slice(2), 'base64');
  sig[0] = sig[0]! ^ 0xff;
  return Buffer.from(`v=${sig.toString('base64')}`).toString('base64');
}

function toAuth(overrides: Parameters<typeof startClient>[0] = {}, offered: string[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']): ClientHarness {
  const h = startClient(overrides);
  scriptedTls(h);
  h.send(features(mechanisms(...offered)));
  h.take();
  return h;
}

describe('initiating entity: SASL success (RFC 6120 §6.4.6)', () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const) {
    for (const initialResponse of [true, false]) {
      it(`RFC 6120 §6.4.6, RFC 5802 §3: ${mechanism} ${initialResponse ? 'with' : 'without'} initial response; a verified signature → restart`, () => {
        const { h, serverFinal } = scramToFinal(mechanism, { initialResponse });
        const cmds = h.step(success(serverFinal));
        expect(cmds).toEqual([
          { type: 'authenticated', username: USER },
          { type: 'resetParser' },
          { type: 'openStream', header: expect.objectContaining({ from: BARE }) },
        ]);
        expect(h.at()).toEqual(['open.negotiating.awaitingStreamHeader']);
        h.send(serverHeader({ id: 's3' }));
        expect(sent(h.step(features(bindFeature(), mechanisms('PLAIN'))))[0]).toMatchObject({ name: 'iq', attrs: { type: 'set' } });
      });
    }
  }

  it('RFC 6120 §6.4.6, RFC 5802 §3: a wrong server signature → not-authorized stream error, TCP closed, auth-failed', () => {
    const { h, serverFinal } = scramToFinal('SCRAM-SHA-256');
    const cmds = h.step(success(flipLastChar(serverFinal)));
    expect(streamErrorOf(cmds)).toBe('not-authorized');
    expect(types(cmds)).toEqual(['send:error', 'closeStream', 'closeSocket', 'ended']);
    expect(cmds.some((c) => c.type === 'authenticated' || c.type === 'resetParser')).toBe(false);
    expect(h.outcome).toEqual({ kind: 'auth-failed', rfc: '6120 §6.4.6', condition: 'not-authorized', text: 'server signature does not verify' });
  });

  it('RFC 5802 §3: SCRAM success without additional data is not believed', () => {
    const { h } = scramToFinal('SCRAM-SHA-1');
    const cmds = h.step(success());
    expect(streamErrorOf(cmds)).toBe('not-authorized');
    expect(h.outcome).toMatchObject({ kind: 'auth-failed', text: 'success without server signature (v=)' });
  });

  it('RFC 5802 §3: SCRAM success before the client-final message is not believed', () => {
    const h = toAuth({ mechanisms: ['SCRAM-SHA-256'] });
    const cmds = h.step(success(b64('v=AAAA')));
    expect(streamErrorOf(cmds)).toBe('not-authorized');
    expect(h.outcome).toMatchObject({ kind: 'auth-failed', text: 'success before the SCRAM exchange completed' });
  });

  it('RFC 5802 §7: a server-final e= in success is a failure', () => {
    const { h } = scramToFinal('SCRAM-SHA-1');
    h.send(success(b64('e=invalid-proof')));
    expect(h.outcome).toMatchObject({ kind: 'auth-failed', text: 'server error: invalid-proof' });
  });

  it('RFC 6120 §6.4.6: success data that is not base 64 is not believed', () => {
    const { h } = scramToFinal('SCRAM-SHA-1');
    expect(streamErrorOf(h.step(success('!!!')))).toBe('not-authorized');
  });

  it('RFC 6120 §6.4.3: server-final in a challenge, then an empty success → verified', () => {
    const { h, serverFinal } = scramToFinal('SCRAM-SHA-256');
    expect(lastSent(h)?.name).toBe('response');
    h.send(challenge(serverFinal));
    const response = lastSent(h)!;
    expect(response).toMatchObject({ name: 'response', children: ['='] }); // §6.4.2 empty data is '='
    expect(types(h.step(success()))).toEqual(['authenticated', 'resetParser', 'openStream']);
  });

  it('RFC 6120 §6.4.3: a wrong server-final in a challenge → abort (§6.4.4)', () => {
    const { h, serverFinal } = scramToFinal('SCRAM-SHA-256');
    expect(types(h.step(challenge(flipLastChar(serverFinal))))).toEqual(['send:abort']);
  });

  it('RFC 4616, RFC 6120 §6.4.2: PLAIN over TLS: one initial response, empty success', () => {
    const h = toAuth({ mechanisms: ['PLAIN'] });
    const auth = sent(h.all).at(-1)!;
    expect(auth).toMatchObject({ name: 'auth', attrs: { mechanism: 'PLAIN' } });
    expect(Buffer.from(text(auth), 'base64').toString()).toBe(`\0${USER}\0${PASSWORD}`);
    expect(types(h.step(success()))).toEqual(['authenticated', 'resetParser', 'openStream']);
  });

  it('RFC 6120 §6.4.2: PLAIN without initial response: the empty challenge gets the message', () => {
    const h = toAuth({ mechanisms: ['PLAIN'], initialResponse: false });
    expect(sent(h.all).at(-1)).toMatchObject({ name: 'auth', children: [] });
    const response = sent(h.step(challenge()))[0]!;
    expect(Buffer.from(text(response), 'base64').toString()).toBe(`\0${USER}\0${PASSWORD}`);
  });

  it('RFC 4616: PLAIN with data in success is not believed', () => {
    const h = toAuth({ mechanisms: ['PLAIN'] });
    expect(streamErrorOf(h.step(success(b64('x'))))).toBe('not-authorized');
  });

  it('RFC 6120 §6.3.8: the authzid is sent and reported with authenticated', () => {
    const h = toAuth({ mechanisms: ['PLAIN'], authzid: BARE });
    const auth = sent(h.all).at(-1)!;
    expect(Buffer.from(text(auth), 'base64').toString()).toBe(`${BARE}\0${USER}\0${PASSWORD}`);
    expect(h.step(success())[0]).toEqual({ type: 'authenticated', username: USER, authzid: BARE });
  });
});

describe('initiating entity: mechanism choice (RFC 6120 §6.3.3, §13.9.4)', () => {
  it('RFC 6120 §6.3.3: the client\'s order decides, not the server\'s', () => {
    const h = toAuth({ mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] }, ['SCRAM-SHA-256', 'SCRAM-SHA-1']);
    expect(sent(h.all).at(-1)?.attrs.mechanism).toBe('SCRAM-SHA-1');
  });

  it('RFC 6120 §6.3.3: mechanisms the client does not implement are skipped', () => {
    const h = toAuth({}, ['X-OAUTH2', 'DIGEST-MD5', 'SCRAM-SHA-1']);
    expect(sent(h.all).at(-1)?.attrs.mechanism).toBe('SCRAM-SHA-1');
  });

  it('RFC 6120 §13.9.4: PLAIN without TLS only when allowPlainWithoutTls', () => {
    const refused = startClient({ tls: 'never', mechanisms: ['PLAIN'] });
    refused.send(serverHeader());
    expect(streamErrorOf(refused.step(features(mechanisms('PLAIN'))))).toBe('unsupported-feature');
    const allowed = startClient({ tls: 'never', mechanisms: ['PLAIN'], allowPlainWithoutTls: true });
    allowed.send(serverHeader());
    expect(sent(allowed.step(features(mechanisms('PLAIN'))))[0]).toMatchObject({ name: 'auth', attrs: { mechanism: 'PLAIN' } });
  });

  it('RFC 6120 §6.3.1, §4.9.3.23: no acceptable mechanism → unsupported-feature, outcome auth-failed', () => {
    const h = toAuth({}, ['EXTERNAL']);
    expect(streamErrorOf(h.all)).toBe('unsupported-feature');
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.outcome).toMatchObject({ kind: 'auth-failed', condition: 'unsupported-feature', rfc: '6120 §6.3.1' });
  });

  it('RFC 6120 §6.3.1: features with no mechanisms at all → unsupported-feature', () => {
    const h = startClient();
    scriptedTls(h);
    expect(streamErrorOf(h.step(features()))).toBe('unsupported-feature');
  });

  it('RFC 4013: credentials SASLprep rejects → nothing sent, the stream is closed', () => {
    const h = startClient({ password: 'bad\u0007password', mechanisms: ['SCRAM-SHA-256'] });
    scriptedTls(h);
    expect(types(h.step(features(mechanisms('SCRAM-SHA-256'))))).toEqual(['closeStream']);
    h.send({ type: 'STREAM_CLOSE' });
    expect(h.outcome).toMatchObject({ kind: 'auth-failed', condition: 'unusable-credentials', text: 'password rejected by SASLprep' });
  });
});

describe('initiating entity: SASL failure (RFC 6120 §6.4.5, §6.5)', () => {
  for (const condition of SASL_FAILURE_CONDITIONS) {
    it(`RFC 6120 §${saslFailureSection(condition)} ${condition}: no retry, the client closes the stream, outcome auth-failed`, () => {
      const h = toAuth();
      const cmds = h.step(saslFailure(condition, 'because'));
      expect(types(cmds)).toEqual(['closeStream']);
      expect(h.at()).toEqual(['closing']);
      expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
      expect(h.outcome).toEqual({ kind: 'auth-failed', rfc: '6120 §6.4.5', condition, text: 'because' });
    });
  }

  it('RFC 6120 §6.4.5: a failure after a challenge round also ends the session', () => {
    const h = toAuth({ mechanisms: ['SCRAM-SHA-256'] });
    h.send(challenge(b64('r=x'))); // unusable → abort
    expect(h.at()).toEqual(['open.negotiating.saslNegotiation.aborting']);
    h.send(saslFailure('aborted'));
    expect(h.outcome).toBeUndefined();
    h.send({ type: 'SOCKET_CLOSED' });
    expect(h.outcome).toMatchObject({ kind: 'auth-failed', condition: 'aborted' });
  });
});

describe('initiating entity: abort (RFC 6120 §6.4.4)', () => {
  const cases: [string, string][] = [
    ['not base 64', '%%%'],
    ['a nonce that does not extend ours', b64('r=other,s=QSXCR+Q6sek8bf92,i=4096')],
    ['too few iterations', ''],
    ['a server error e=', b64('e=other-error')],
  ];
  for (const [what, data] of cases) {
    it(`RFC 6120 §6.4.4: a challenge with ${what} → <abort/>, then failure aborted → close`, () => {
      const h = toAuth({ mechanisms: ['SCRAM-SHA-256'] });
      const auth = sent(h.all).at(-1)!;
      let payload = data;
      if (what === 'too few iterations') {
        const nonce = Buffer.from(text(auth), 'base64').toString().split('r=')[1]!;
        payload = b64(`r=${nonce}srv,s=QSXCR+Q6sek8bf92,i=1`);
      }
      const cmds = h.step(challenge(payload));
      expect(sent(cmds)).toEqual([expect.objectContaining({ name: 'abort', xmlns: NS.SASL })]);
      // A challenge or success crossing the abort is ignored.
      expect(h.step(challenge(b64('x')))).toEqual([]);
      expect(h.step(success())).toEqual([]);
      expect(types(h.step(saslFailure('aborted')))).toEqual(['closeStream']);
      h.send({ type: 'STREAM_CLOSE' });
      expect(h.outcome?.kind).toBe('auth-failed');
      expect(h.outcome?.condition).toBe('aborted');
      expect(h.outcome?.text).toBeTruthy();
    });
  }

  it('RFC 6120 §6.4.3: PLAIN expects no non-empty challenge → abort', () => {
    const h = toAuth({ mechanisms: ['PLAIN'] });
    expect(types(h.step(challenge(b64('what'))))).toEqual(['send:abort']);
  });
});

describe('initiating entity: SASL elements out of turn', () => {
  it('RFC 6120 §4.9.3.24: success before any auth → unsupported-stanza-type', () => {
    const h = startClient();
    h.send(serverHeader());
    expect(streamErrorOf(h.step(success()))).toBe('unsupported-stanza-type');
  });

  it('RFC 6120 §4.9.1.1: a stream error during SASL ends the session', () => {
    const h = toAuth();
    const cmds = h.step({ type: 'ELEMENT', element: { name: 'error', xmlns: NS.STREAMS, attrs: {}, children: [{ name: 'policy-violation', xmlns: NS.STREAM_ERRORS, attrs: {}, children: [] } as XmlElement] } });
    expect(types(cmds)).toEqual(['closeStream', 'closeSocket', 'ended']);
    expect(h.outcome).toMatchObject({ kind: 'error-received', condition: 'policy-violation' });
  });
});
