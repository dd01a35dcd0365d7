/**
 * The initiating entity's pure helpers, and the machine's metadata (every state and
 * transition names its RFC section).
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import {
  chooseMechanism,
  decideFeatures,
  identityOf,
  initialHeader,
  initiatingEntityMachine,
  isServerPing,
  offeredFeatures,
  readBindReply,
  readStreamError,
  responseHeaderProblem,
} from '../../../machines/initiating/index.js';
import { NS } from '../../../machines/ns.js';
import { el } from '../../../machines/xml.js';
import { BARE, DOMAIN, bindFeature, mechanisms, starttlsFeature } from './harness.js';

function allStates(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((c) => allStates(c as AnyStateNode))];
}

describe('initiating entity: metadata', () => {
  const states = allStates(initiatingEntityMachine.root);
  const transitions = states.flatMap((s) => [...[...s.transitions.values()].flat(), ...(s.always ?? [])].map((t) => ({ state: s.id, t })));

  it('every state carries meta.rfc and a summary', () => {
    for (const s of states) {
      expect((s.meta as { rfc?: string } | undefined)?.rfc, s.id).toMatch(/^6120 §\d/);
      if (s.parent) expect((s.meta as { summary?: string }).summary, s.id).toBeTruthy();
    }
  });

  it('every transition (events, delays, eventless) carries meta.rfc', () => {
    expect(transitions.length).toBeGreaterThan(states.length);
    for (const { state, t } of transitions) {
      expect((t.meta as { rfc?: string } | undefined)?.rfc, `${state} ${t.eventType}`).toMatch(/^(6120|XEP-0199) §\d/);
    }
  });

  it('timers are XState delays named after input.timeouts', () => {
    const delays = transitions.filter(({ t }) => t.eventType.startsWith('xstate.after.')).map(({ t }) => t.eventType.split('.')[2]);
    expect(new Set(delays)).toEqual(new Set(['negotiationTimeout', 'idleTimeout', 'pingTimeout', 'closeTimeout']));
  });
});

describe('initiating entity: headers (RFC 6120 §4.7)', () => {
  it('RFC 7622 §3.1: identity from the input JID', () => {
    expect(identityOf('Juliet@IM.example.com/Balcony')).toEqual({ username: 'juliet', domain: DOMAIN, resource: 'Balcony' });
    expect(identityOf(BARE)).toEqual({ username: 'juliet', domain: DOMAIN });
    expect(identityOf(DOMAIN)).toBeUndefined();
    expect(identityOf('a@b@c')).toBeUndefined();
  });

  it('RFC 6120 §4.7.1: from only on a protected stream', () => {
    const id = identityOf(`${BARE}/r`)!;
    expect(initialHeader(id, {}, false).from).toBeUndefined();
    expect(initialHeader(id, {}, true).from).toBe(BARE);
  });

  it('RFC 6120 §4.7.5, §4.8.2: response header checks', () => {
    const ok = { from: DOMAIN, id: 'x', version: '1.0', contentNamespace: NS.CLIENT };
    expect(responseHeaderProblem(ok)).toBeUndefined();
    expect(responseHeaderProblem({ ...ok, id: undefined })).toBeUndefined();
    expect(responseHeaderProblem({ ...ok, version: '2.0' })).toBeUndefined();
    expect(responseHeaderProblem({ ...ok, version: undefined })).toBe('unsupported-version');
    expect(responseHeaderProblem({ ...ok, version: '0.9' })).toBe('unsupported-version');
    expect(responseHeaderProblem({ ...ok, version: '1' })).toBe('unsupported-version');
    expect(responseHeaderProblem({ ...ok, contentNamespace: NS.SERVER })).toBe('invalid-namespace');
  });
});

describe('initiating entity: features (RFC 6120 §4.3.2, §5.3.1, §6.3.3)', () => {
  const policy = { tls: 'required' as const, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const, allowPlainWithoutTls: false };
  const f = (...c: ReturnType<typeof el>[]) => offeredFeatures(el('features', NS.STREAMS, {}, ...c));

  it('RFC 6120 §5.3.1: required when <required/> or when STARTTLS is the only feature', () => {
    expect(f(starttlsFeature(true), mechanisms('PLAIN')).starttlsRequired).toBe(true);
    expect(f(starttlsFeature(false)).starttlsRequired).toBe(true);
    expect(f(starttlsFeature(false), mechanisms('PLAIN')).starttlsRequired).toBe(false);
  });

  it('decisions by stage and policy', () => {
    expect(decideFeatures(f(starttlsFeature()), policy, false, false)).toEqual({ kind: 'starttls' });
    expect(decideFeatures(f(starttlsFeature()), { ...policy, tls: 'never' }, false, false)).toEqual({ kind: 'tls-refused' });
    expect(decideFeatures(f(mechanisms('PLAIN')), policy, false, false)).toEqual({ kind: 'tls-unavailable' });
    expect(decideFeatures(f(mechanisms('PLAIN', 'SCRAM-SHA-1')), policy, true, false)).toEqual({ kind: 'sasl', mechanism: 'SCRAM-SHA-1' });
    expect(decideFeatures(f(starttlsFeature(), mechanisms('PLAIN')), policy, true, false)).toEqual({ kind: 'sasl', mechanism: 'PLAIN' });
    expect(decideFeatures(f(mechanisms('PLAIN')), { ...policy, tls: 'optional' }, false, false)).toEqual({ kind: 'no-mechanism' });
    expect(decideFeatures(f(bindFeature()), policy, true, true)).toEqual({ kind: 'bind' });
    expect(decideFeatures(f(mechanisms('PLAIN')), policy, true, true)).toEqual({ kind: 'no-bind' });
  });

  it('RFC 6120 §6.3.3, §13.9.4: chooseMechanism', () => {
    expect(chooseMechanism(['PLAIN'], { mechanisms: ['PLAIN'], allowPlainWithoutTls: true }, false)).toBe('PLAIN');
    expect(chooseMechanism(['PLAIN'], { mechanisms: ['PLAIN'], allowPlainWithoutTls: false }, false)).toBeUndefined();
    expect(chooseMechanism(['SCRAM-SHA-256', 'SCRAM-SHA-1'], { mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'], allowPlainWithoutTls: false }, false)).toBe('SCRAM-SHA-1');
  });
});

describe('initiating entity: bind replies and stream errors', () => {
  const accounts = [BARE];
  const result = (id: string, jid?: string) =>
    el('iq', NS.CLIENT, { id, type: 'result' }, el('bind', NS.BIND, {}, jid !== undefined && el('jid', NS.BIND, {}, jid)));

  it('RFC 6120 §7.6.1: readBindReply', () => {
    expect(readBindReply(result('b1', `${BARE}/r`), 'b1', accounts)).toEqual({ kind: 'bound', jid: `${BARE}/r` });
    expect(readBindReply(result('b2', `${BARE}/r`), 'b1', accounts)).toBeUndefined();
    expect(readBindReply(result('b1', `${BARE}/r`), undefined, accounts)).toBeUndefined();
    expect(readBindReply(result('b1'), 'b1', accounts)?.kind).toBe('invalid');
    expect(readBindReply(result('b1', 'romeo@im.example.com/r'), 'b1', accounts)?.kind).toBe('invalid');
    expect(readBindReply(el('iq', NS.CLIENT, { id: 'b1', type: 'get' }), 'b1', accounts)).toBeUndefined();
    const error = el('iq', NS.CLIENT, { id: 'b1', type: 'error' }, el('error', NS.CLIENT, { type: 'cancel' }, el('not-allowed', NS.STANZAS), el('text', NS.STANZAS, {}, 'no')));
    expect(readBindReply(error, 'b1', accounts)).toEqual({ kind: 'error', condition: 'not-allowed', text: 'no' });
  });

  it('RFC 6120 §4.9.3.19: the see-other-host value is its character data', () => {
    expect(readStreamError(el('error', NS.STREAMS, {}, el('see-other-host', NS.STREAM_ERRORS, {}, ' im2.example.com ')))).toEqual({
      condition: 'see-other-host',
      text: 'im2.example.com',
    });
    expect(readStreamError(el('error', NS.STREAMS, {}, el('reset', NS.STREAM_ERRORS)))).toEqual({ condition: 'reset' });
  });

  it('XEP-0199 §4.2: only a get from the server with a single ping payload is a server ping', () => {
    const ping = (attrs: Record<string, string | undefined>, ...extra: ReturnType<typeof el>[]) =>
      el('iq', NS.CLIENT, { id: 'p', type: 'get', ...attrs }, el('ping', NS.PING), ...extra);
    expect(isServerPing(ping({ from: DOMAIN }), DOMAIN)).toBe(true);
    expect(isServerPing(ping({}), DOMAIN)).toBe(true);
    expect(isServerPing(ping({ from: 'romeo@example.net' }), DOMAIN)).toBe(false);
    expect(isServerPing(ping({ type: 'set' }), DOMAIN)).toBe(false);
    expect(isServerPing(ping({ id: undefined }), DOMAIN)).toBe(false);
    expect(isServerPing(ping({}, el('x', 'urn:x')), DOMAIN)).toBe(false);
  });
});
