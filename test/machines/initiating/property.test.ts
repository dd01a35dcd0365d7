/**
 * Property: whatever a server (or the transport, or the application) throws at the client
 * machine, it never fails, keeps a small context, never writes during a TLS handshake
 * (§5.4.3.1) or writes a stanza before it is online (§4.3.5), and SOCKET_CLOSED always
 * brings it to its final state with exactly one `ended` command, the last one.
 */
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { SASL_FAILURE_CONDITIONS, STREAM_ERROR_CONDITIONS } from '../../../machines/conditions.js';
import { initiatingEntityMachine, type InitiatingEntityEvent } from '../../../machines/initiating/index.js';
import { NS } from '../../../machines/ns.js';
import type { Command, StreamOutcome } from '../../../machines/protocol.js';
import { el } from '../../../machines/xml.js';
import {
  BARE,
  DOMAIN,
  b64,
  bindErrorIq,
  bindFeature,
  bindResultIq,
  challenge,
  clientInput,
  element,
  features,
  mechanisms,
  message,
  proceed,
  saslFailure,
  serverHeader,
  starttlsFeature,
  streamError,
  success,
  tlsFailure,
} from './harness.js';

/** A step: an event, a bind reply that needs the id the client used, or time passing. */
type Step = { readonly event: InitiatingEntityEvent } | { readonly bindReply: 'result' | 'conflict' | 'not-allowed' } | { readonly advance: number };

const ev = (event: InitiatingEntityEvent): Step => ({ event });

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom<Step>(
    ev(serverHeader()),
    ev(serverHeader({ version: undefined })),
    ev(serverHeader({ contentNamespace: NS.SERVER })),
    ev(features(starttlsFeature(true))),
    ev(features(starttlsFeature(), mechanisms('SCRAM-SHA-256', 'PLAIN'))),
    ev(features(mechanisms('PLAIN'))),
    ev(features(mechanisms('SCRAM-SHA-1'))),
    ev(features(mechanisms('EXTERNAL'))),
    ev(features(bindFeature())),
    ev(features()),
    ev(proceed()),
    ev(tlsFailure()),
    ev(challenge()),
    ev(challenge('%%')),
    ev(challenge(b64('r=abc,s=c2FsdA==,i=4096'))),
    ev(success()),
    ev(success(b64('v=AAAA'))),
    ev(element(message())),
    ev(element(el('iq', NS.CLIENT, { from: DOMAIN, id: 'p1', type: 'get' }, el('ping', NS.PING)))),
    ev(element(el('unknown', 'urn:x'))),
    ev({ type: 'KEEPALIVE' }),
    ev({ type: 'STREAM_CLOSE' }),
    ev({ type: 'PARSE_ERROR', condition: 'not-well-formed' }),
    ev({ type: 'TLS_ESTABLISHED' }),
    ev({ type: 'TLS_FAILED', reason: 'x' }),
    ev({ type: 'WRITE_FAILED' }),
    ev({ type: 'SEND', stanza: message({ to: 'romeo@example.net' }) }),
    ev({ type: 'CLOSE' }),
    { bindReply: 'result' },
    { bindReply: 'conflict' },
    { bindReply: 'not-allowed' },
  ),
  fc.constantFrom(...SASL_FAILURE_CONDITIONS).map((c) => ev(saslFailure(c))),
  fc.constantFrom(...STREAM_ERROR_CONDITIONS).map((c) => ev(streamError(c))),
  fc.integer({ min: 1, max: 400_000 }).map((advance): Step => ({ advance })),
);

const policyArb = fc.record({
  tls: fc.constantFrom('required', 'optional', 'never') as fc.Arbitrary<'required' | 'optional' | 'never'>,
  initialResponse: fc.boolean(),
  keepalive: fc.constantFrom('ping', 'whitespace') as fc.Arbitrary<'ping' | 'whitespace'>,
  jid: fc.constantFrom(BARE, `${BARE}/balcony`),
  allowPlainWithoutTls: fc.boolean(),
});

const KINDS: readonly StreamOutcome['kind'][] = ['closed', 'error-sent', 'error-received', 'transport', 'timeout', 'tls-failed', 'auth-failed', 'bind-failed'];
const STANZAS = new Set(['message', 'presence']);

/** The scripted happy path (STARTTLS, PLAIN, bind); a random prefix of it leads the random steps into every stage. */
const HAPPY: readonly Step[] = [
  ev(serverHeader()),
  ev(features(starttlsFeature(true))),
  ev(proceed()),
  ev({ type: 'TLS_ESTABLISHED' }),
  ev(serverHeader()),
  ev(features(mechanisms('PLAIN'))),
  ev(success()),
  ev(serverHeader()),
  ev(features(bindFeature())),
  { bindReply: 'result' },
];

test.prop([policyArb, fc.integer({ min: 0, max: HAPPY.length }), fc.array(stepArb, { maxLength: 40 })], { numRuns: 400 })(
  'RFC 6120 §4.4, §4.6.1: random event sequences never fail the machine; SOCKET_CLOSED always ends it',
  (policy, prefix, randomSteps) => {
    const steps = [...HAPPY.slice(0, prefix), ...randomSteps];
    const clock = new SimulatedClock();
    const actor = createActor(initiatingEntityMachine, { input: clientInput({ ...policy, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] }), clock });
    const commands: Command[] = [];
    const errors: unknown[] = [];
    let online = false;
    let inHandshake = false;
    actor.on('*', (c: Command) => {
      commands.push(c);
      if (c.type === 'online') online = true;
      if (c.type === 'startTls') inHandshake = true;
      // §5.4.3.1: no XML while TLS is negotiated.
      if (inHandshake) expect(['send', 'openStream', 'closeStream', 'sendWhitespace']).not.toContain(c.type);
      // §4.3.5 / §7.1: no application stanza before the stream is bound.
      if (c.type === 'send' && STANZAS.has(c.element.name)) expect(online).toBe(true);
    });
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    for (const step of steps) {
      if (actor.getSnapshot().status !== 'active') break;
      if ('advance' in step) clock.increment(step.advance);
      else if ('bindReply' in step) {
        const id = actor.getSnapshot().context.bindId ?? 'none';
        actor.send(step.bindReply === 'result' ? bindResultIq(id, `${BARE}/r1`) : bindErrorIq(id, step.bindReply));
      } else {
        if (step.event.type === 'TLS_ESTABLISHED' || step.event.type === 'TLS_FAILED') inHandshake = false;
        actor.send(step.event);
      }
      expect(errors).toEqual([]);
      const { input: _input, ...rest } = actor.getSnapshot().context;
      // Bounded context: no lists grow with the input.
      expect(JSON.stringify(rest).length).toBeLessThan(2_000);
    }
    if (actor.getSnapshot().status === 'active') actor.send({ type: 'SOCKET_CLOSED' });
    expect(errors).toEqual([]);
    const snapshot = actor.getSnapshot();
    expect(snapshot.status).toBe('done');
    expect(snapshot.value).toBe('closed');
    const ended = commands.filter((c) => c.type === 'ended');
    expect(ended).toHaveLength(1);
    expect(commands.at(-1)?.type).toBe('ended');
    const outcome = snapshot.output!;
    if (prefix === HAPPY.length && policy.tls !== 'never') expect(online).toBe(true);
    expect(KINDS).toContain(outcome.kind);
    expect(outcome.rfc).toMatch(/^6120 §\d+(\.\d+)*$/);
    expect(ended[0]).toEqual({ type: 'ended', outcome });
  },
);
