import { describe, expect, it } from 'vitest';
import { STREAM_ERROR_CONDITIONS, streamErrorSection, type StreamErrorCondition } from '../../../machines/conditions.js';
import { NS } from '../../../machines/ns.js';
import type { Command } from '../../../machines/protocol.js';
import { describeMachine } from '../../../machines/introspect/model.js';
import { streamErrorTriggers } from '../../../machines/introspect/triggers.js';
import { receivingEntityMachine, streamErrorElementFor, type ReceivingEntityMachineInput } from '../../../machines/receiving/index.js';
import { el } from '../../../machines/xml.js';
import {
  DOMAIN,
  auth,
  bindIq,
  element,
  establish,
  header,
  message,
  plainAuth,
  sent,
  startServer,
  starttls,
  streamErrorOf,
  throughTls,
  types,
  type Harness,
} from './harness.js';

interface Scenario {
  readonly input?: Partial<ReceivingEntityMachineInput>;
  /** Drive the server to the error; returns the commands of the triggering step. */
  readonly trigger: (h: Harness) => Command[];
  /** Our stream header is not out yet when the error happens (§4.9.1.2). */
  readonly headerFirst?: boolean;
  /** Commands expected before the `<stream:error/>` (besides the header). */
  readonly before?: string[];
  readonly text?: string;
}

const fail = (condition: StreamErrorCondition, text?: string) => (h: Harness) => {
  h.send(header());
  return h.step({ type: 'FAIL', condition, ...(text !== undefined ? { text } : {}) });
};
const parseError = (condition: StreamErrorCondition, beforeHeader = false) => (h: Harness) => {
  if (!beforeHeader) h.send(header());
  return h.step({ type: 'PARSE_ERROR', condition });
};

/** How each §4.9.3 condition is provoked: client behaviour where there is one, FAIL otherwise. */
/** Triggers read from the machine's own transitions (machines/introspect/triggers.ts). */
const TRIGGERS = streamErrorTriggers(describeMachine(receivingEntityMachine));
/**
 * Conditions no transition names, sent only when an event carries them (§4.9.3): improper-addressing
 * is a server-to-server condition (§4.9.3.7), so only FAIL raises it here; invalid-xml only if an
 * XML layer raised it in PARSE_ERROR, and runtime/xml validates no schema (§4.9.3.11, §11.4).
 */
const ONLY_GENERIC: readonly StreamErrorCondition[] = ['improper-addressing', 'invalid-xml'];

const SCENARIOS: Record<StreamErrorCondition, Scenario> = {
  'bad-format': { trigger: parseError('bad-format') },
  'bad-namespace-prefix': { trigger: parseError('bad-namespace-prefix', true), headerFirst: true },
  conflict: {
    trigger: (h) => {
      establish(h);
      return h.step({ type: 'REPLACED' });
    },
    text: 'replaced by a new session',
  },
  'connection-timeout': {
    trigger: (h) => {
      h.send(header());
      return h.advance(60_000);
    },
  },
  'host-gone': { trigger: fail('host-gone') },
  'host-unknown': { trigger: (h) => h.step(header({ to: 'example.org' })), headerFirst: true },
  'improper-addressing': { trigger: fail('improper-addressing') },
  'internal-server-error': { trigger: fail('internal-server-error', 'boom'), text: 'boom' },
  'invalid-from': {
    trigger: (h) => {
      establish(h);
      return h.step(message({ from: 'romeo@example.net' }));
    },
  },
  'invalid-namespace': { trigger: (h) => h.step(header({ contentNamespace: NS.SERVER })), headerFirst: true },
  'invalid-xml': { trigger: parseError('invalid-xml') },
  'not-authorized': {
    trigger: (h) => {
      h.send(header());
      return h.step(message());
    },
  },
  'not-well-formed': { trigger: parseError('not-well-formed') },
  'policy-violation': {
    input: { maxAuthAttempts: 2 },
    trigger: (h) => {
      throughTls(h);
      h.send(auth('CRAM-MD5'));
      return h.step(auth('CRAM-MD5'));
    },
    before: ['send:failure'],
    text: 'too many failed authentication attempts',
  },
  'remote-connection-failed': { trigger: fail('remote-connection-failed') },
  reset: { trigger: fail('reset') },
  'resource-constraint': { trigger: fail('resource-constraint') },
  'restricted-xml': { trigger: parseError('restricted-xml') },
  'see-other-host': { trigger: fail('see-other-host', 'other.example.com:5222'), text: 'other.example.com:5222' },
  'system-shutdown': { trigger: (h) => h.step({ type: 'SHUTDOWN' }), headerFirst: true },
  'undefined-condition': { trigger: fail('undefined-condition') },
  'unsupported-encoding': { trigger: parseError('unsupported-encoding', true), headerFirst: true },
  'unsupported-feature': { trigger: fail('unsupported-feature') },
  'unsupported-stanza-type': {
    trigger: (h) => {
      h.send(header());
      return h.step(element(el('pubsub', NS.CLIENT)));
    },
  },
  'unsupported-version': { trigger: (h) => h.step(header({ version: '0.9' })), headerFirst: true },
};

describe('receiving entity: every stream error condition (RFC 6120 §4.9)', () => {
  for (const condition of STREAM_ERROR_CONDITIONS) {
    const s = SCENARIOS[condition];
    for (const ending of ['peer closes', 'close timeout'] as const) {
      it(`RFC 6120 §${streamErrorSection(condition)} ${condition}: [header,] error, close tag, then TCP close after ${ending}`, () => {
        const h = startServer(s.input);
        const out = s.trigger(h);
        expect(types(out)).toEqual([...(s.headerFirst ? ['openStream'] : []), ...(s.before ?? []), 'send:error', 'closeStream']);
        expect(sent(out).find((e) => e.name === 'error' && e.xmlns === NS.STREAMS)).toEqual(streamErrorElementFor(condition, s.text));
        expect(streamErrorOf(out)).toBe(condition);
        if (s.headerFirst) {
          // §4.9.1.3: our 'from' is our domain even when the peer's 'to' was unknown or absent
          expect(out[0]).toMatchObject({ type: 'openStream', header: { from: DOMAIN } });
        }
        expect(h.at()).toEqual(['closing']);
        // §4.4 rule 2: nothing more is written while we wait
        expect(h.step({ type: 'ROUTE_IN', stanza: el('message', NS.CLIENT) })).toEqual([]);
        const end = ending === 'peer closes' ? h.step({ type: 'STREAM_CLOSE' }) : h.advance(10_000);
        expect(types(end)).toEqual(['closeSocket', 'ended']);
        const ended = end[1];
        expect(ended?.type === 'ended' && ended.outcome.condition).toBe(condition);
        expect(h.done).toBe(true);
      });
    }
    it(`the machine documents how ${condition} is reached (transitions citing §${streamErrorSection(condition)}, or §4.9.3 when the event names it)`, () => {
      const triggers = TRIGGERS[condition];
      expect(triggers.length).toBeGreaterThan(0);
      expect(triggers.every((t) => t.generic === true)).toBe(ONLY_GENERIC.includes(condition));
    });
  }

  it('§4.9.3.25 a header without version gets a response header without version (§4.7.5 rule 4), then the error', () => {
    const h = startServer();
    const out = h.step(header({ version: undefined }));
    expect(out[0]?.type === 'openStream' && out[0].header.version).toBeUndefined();
    expect(streamErrorOf(out)).toBe('unsupported-version');
  });

  it('§4.7.5 a higher version is answered with 1.0 and negotiation continues', () => {
    const h = startServer();
    const out = h.step(header({ version: '2.0' }));
    expect(out[0]).toMatchObject({ type: 'openStream', header: { version: '1.0' } });
    expect(types(out)).toEqual(['openStream', 'send:features']);
  });

  it('§4.9.1.3 host-unknown without any to: our from is our own domain', () => {
    const h = startServer();
    const out = h.step(header({ to: undefined }));
    expect(out[0]).toMatchObject({ type: 'openStream', header: { from: DOMAIN, to: `juliet@${DOMAIN}` } });
    expect(streamErrorOf(out)).toBe('host-unknown');
  });

  it('§4.9.1.2 a stream error after a restart re-opens the stream with a fresh id first', () => {
    const h = startServer();
    h.send(header());
    h.send(starttls());
    h.send({ type: 'TLS_ESTABLISHED' });
    const out = h.step({ type: 'SHUTDOWN' });
    expect(types(out)).toEqual(['openStream', 'send:error', 'closeStream']);
  });
});

describe('receiving entity: elements at the wrong time (RFC 6120 §4.3.5, §4.9.3, §5.4.2.2)', () => {
  it('§4.3.5 / §4.9.3.12 a stanza before authentication → <not-authorized/>, nothing delivered', () => {
    const h = startServer();
    throughTls(h);
    const out = h.step(element(el('iq', NS.CLIENT, { type: 'get', id: 'x' }, el('query', 'jabber:iq:roster'))));
    expect(types(out)).toEqual(['send:error', 'closeStream']);
    expect(streamErrorOf(out)).toBe('not-authorized');
  });

  it('§5.4.2.2 a second <starttls/> after TLS: TLS <failure/>, close tag, TCP after the peer\'s close', () => {
    const h = startServer();
    throughTls(h);
    const out = h.step(starttls());
    expect(out).toEqual([{ type: 'send', element: el('failure', NS.TLS) }, { type: 'closeStream' }]);
    expect(types(h.step({ type: 'STREAM_CLOSE' }))).toEqual(['closeSocket', 'ended']);
  });

  it("§5.4.2.2 <starttls/> when TLS is not offered at all (policy 'none')", () => {
    const h = startServer({ tls: 'none' });
    h.send(header());
    expect(types(h.step(starttls()))).toEqual(['send:failure', 'closeStream']);
  });

  it('§5.4.2.2 <starttls/> after binding', () => {
    const h = startServer();
    establish(h);
    expect(types(h.step(starttls()))).toEqual(['send:failure', 'closeStream']);
  });

  it('§4.9.3.12 <auth/> after SASL succeeded → <not-authorized/> (before and after binding)', () => {
    const a = startServer();
    throughTls(a);
    plainAuth(a);
    a.send(header());
    expect(streamErrorOf(a.step(auth('PLAIN', 'AA==')))).toBe('not-authorized');
    const b = startServer();
    establish(b);
    expect(streamErrorOf(b.step(auth('PLAIN', 'AA==')))).toBe('not-authorized');
  });

  it('§4.9.3.10 a jabber:server stanza on a client stream → <invalid-namespace/>', () => {
    const h = startServer();
    establish(h);
    expect(streamErrorOf(h.step(element(el('message', NS.SERVER, { to: 'romeo@example.net' }))))).toBe('invalid-namespace');
  });

  it('§4.9.3.24 unknown first-level elements → <unsupported-stanza-type/> in every phase', () => {
    const unknown = element(el('features', NS.STREAMS));
    const before = startServer();
    before.send(header());
    expect(streamErrorOf(before.step(unknown))).toBe('unsupported-stanza-type');
    const bound = startServer();
    establish(bound);
    expect(streamErrorOf(bound.step(element(el('foo', 'urn:example:foo'))))).toBe('unsupported-stanza-type');
  });

  it('§4.9.3.9 invalid-from: another resource of the same account is not this stream', () => {
    const h = startServer();
    establish(h, 'balcony');
    expect(streamErrorOf(h.step(message({ from: 'juliet@im.example.com/orchard' })))).toBe('invalid-from');
  });

  it("§8.1.2.1 the account's bare JID as 'from' is accepted and stamped with the full JID", () => {
    const h = startServer();
    const jid = establish(h);
    const out = h.step(message({ from: 'juliet@im.example.com' }));
    expect(out[0]?.type === 'deliver' && out[0].stanza.attrs.from).toBe(jid);
  });

  it('§8.1.2.1 subscription presence is stamped with the bare JID', () => {
    const h = startServer();
    establish(h);
    const out = h.step(element(el('presence', NS.CLIENT, { type: 'subscribe', to: 'romeo@example.net' })));
    expect(out[0]?.type === 'deliver' && out[0].stanza.attrs.from).toBe('juliet@im.example.com');
  });

  it('§4.9.1.1 a stream error from the client: we close our stream and TCP at once', () => {
    const h = startServer();
    establish(h);
    const err = el('error', NS.STREAMS, {}, el('undefined-condition', NS.STREAM_ERRORS));
    expect(h.step(element(err))).toEqual([
      { type: 'closeStream' },
      { type: 'closeSocket' },
      { type: 'ended', outcome: { kind: 'error-received', condition: 'undefined-condition', rfc: '6120 §4.9.1.1' } },
    ]);
  });

  it('bind request before authentication → <not-authorized/>', () => {
    const h = startServer();
    throughTls(h);
    expect(streamErrorOf(h.step(bindIq('b', 'r')))).toBe('not-authorized');
  });
});
