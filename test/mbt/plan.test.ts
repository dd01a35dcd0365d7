/**
 * The model and the path plan of model-based testing, in memory: the paths generated with
 * xstate/graph cover every client-drivable transition of the receiving entity (RFC 6120
 * §4-§8) under the two self profiles, host-internal transitions are named with a reason,
 * the traversal's state key ignores unbounded data, and the oracle says what the server writes.
 */
import { describe, expect, it } from 'vitest';
import { describeMachine } from '../../machines/introspect/model.js';
import { NS } from '../../machines/ns.js';
import { DEFAULT_SERVER_POLICY } from '../../machines/policy.js';
import { receivingEntityMachine } from '../../machines/receiving/index.js';
import { child, childElements } from '../../machines/xml.js';
import type { Command } from '../../machines/protocol.js';
import { describeAction, type ClientAction } from '../../mbt/actions.js';
import { canonical, compareObservations, expectedObservations, normalize } from '../../mbt/compare.js';
import { Model, seededRandom, serializeModelState } from '../../mbt/model.js';
import { classifyTransition, planPaths, scenarios, transitionName } from '../../mbt/paths.js';
import { SELF_PROFILES } from '../../mbt/self.js';

const account = { domain: 'localhost', user: 'mbt', password: 'mbt-secret-1' };
const newModel = (policy = SELF_PROFILES[0]!.policy, seed = 1) => new Model({ account, policy, random: seededRandom(seed) });
const plans = SELF_PROFILES.map((p) => planPaths(newModel(p.policy)));
const described = describeMachine(receivingEntityMachine);

function run(model: Model, actions: readonly ClientAction[]) {
  let s = model.initial();
  const all: Command[][] = [];
  for (const a of actions) {
    s = model.step(s, a);
    all.push([...s.commands]);
  }
  return { state: s, commands: all };
}

const tlsLogin: ClientAction[] = [{ type: 'open' }, { type: 'starttls' }, { type: 'tlsHandshake' }, { type: 'open' }];

describe('model-based test plan (xstate/graph over the receiving entity, RFC 6120 §4-§8)', () => {
  it('classifies every transition as client-drivable or host-internal, with a reason', () => {
    const classes = described.transitions.map(classifyTransition);
    expect(classes.every((c) => c.why.length > 10)).toBe(true);
    const host = described.transitions.filter((_, i) => classes[i]!.driver === 'host').map((t) => `${t.source} ${t.eventType}`);
    // Host-internal: the operator/runtime, other sessions, local write failures, the store failing.
    for (const e of ['open SHUTDOWN', 'open FAIL', 'open CLOSE', 'open WRITE_FAILED', 'open.established.stanzas.exchanging ROUTE_IN', 'open.established.stanzas.exchanging REPLACED']) {
      expect(host).toContain(e);
    }
    const drivable = described.transitions.filter((_, i) => classes[i]!.driver === 'client').map((t) => t.eventType);
    for (const e of ['HEADER', 'ELEMENT', 'KEEPALIVE', 'STREAM_CLOSE', 'PARSE_ERROR', 'SOCKET_CLOSED', 'TLS_ESTABLISHED', 'TLS_FAILED', 'CREDENTIALS']) {
      expect(drivable).toContain(e);
    }
    expect(drivable.some((e) => e.startsWith('xstate.after.'))).toBe(true);
  });

  it('reaches every client-drivable transition and every state under the two self profiles together (§4-§8)', () => {
    const classes = described.transitions.map(classifyTransition);
    const drivable = classes.map((c, i) => (c.driver === 'client' ? i : -1)).filter((i) => i >= 0);
    const reached = new Set(plans.flatMap((p) => p.reachable));
    const missing = drivable.filter((i) => !reached.has(i)).map((i) => transitionName(described.transitions[i]!));
    expect(missing).toEqual([]);
    // Each profile leaves a few out, for a reason of policy: voluntary STARTTLS only when TLS is optional (§5.3.1).
    const unreachable0 = plans[0]!.unreachable.map((i) => transitionName(described.transitions[i]!));
    expect(unreachable0.some((t) => t.includes('tlsOffered'))).toBe(true);
    const states = new Set(plans.flatMap((p) => p.reachableStates));
    expect(described.states.map((s) => s.path).filter((s) => !states.has(s))).toEqual([]);
  });

  it('plans the same paths every time (deterministic, independent of the random source)', () => {
    const again = planPaths(newModel(SELF_PROFILES[0]!.policy, 42));
    expect(again.paths.map((p) => p.actions.map(describeAction).join(' '))).toEqual(plans[0]!.paths.map((p) => p.actions.map(describeAction).join(' ')));
    expect(plans[0]!.paths.length).toBeGreaterThan(20);
    expect(plans[0]!.paths.map((p) => p.id)).toEqual([...new Set(plans[0]!.paths.map((p) => p.id))]);
  });

  it('keeps nonces, stream ids and stanzas out of the traversal key', () => {
    const a = run(newModel(undefined, 1), [...tlsLogin, { type: 'authScram', mechanism: 'SCRAM-SHA-256' }]).state;
    const b = run(newModel(undefined, 2), [...tlsLogin, { type: 'authScram', mechanism: 'SCRAM-SHA-256' }]).state;
    expect(JSON.stringify(a.machine.context['sasl'])).not.toBe(JSON.stringify(b.machine.context['sasl']));
    expect(serializeModelState(a)).toBe(serializeModelState(b));
    expect(serializeModelState(a)).not.toMatch(/r=|nonce|streamId/);
  });

  it('is the oracle: a SCRAM-SHA-256 login and bind through the model (RFC 7677, §6.4, §7.6.1)', () => {
    const { state, commands } = run(newModel(), [
      ...tlsLogin,
      { type: 'authScram', mechanism: 'SCRAM-SHA-256' },
      { type: 'response', proof: 'right' },
      { type: 'open' },
      { type: 'bind', resource: 'mbt' },
    ]);
    expect(state.machine.matches({ open: 'established' })).toBe(true);
    const sent = commands.map((cs) => cs.filter((c) => c.type === 'send').map((c) => (c.type === 'send' ? c.element.name : '')));
    expect(sent).toEqual([['features'], ['proceed'], [], ['features'], ['challenge'], ['success'], ['features'], ['iq']]);
    expect(commands[2]).toEqual([]);
  });

  it('answers a wrong SCRAM proof with not-authorized (§6.5.10) and counts the failure', () => {
    const { state, commands } = run(newModel(), [...tlsLogin, { type: 'authScram', mechanism: 'SCRAM-SHA-1' }, { type: 'response', proof: 'wrong' }]);
    const failure = commands.at(-1)!.find((c) => c.type === 'send');
    expect(failure?.type === 'send' && child(failure.element, 'not-authorized', NS.SASL)).toBeTruthy();
    expect(state.machine.context['authFailures']).toBe(1);
  });

  it('waits are explicit events: the negotiation timer ends in <connection-timeout/> (§4.6.2)', () => {
    const model = newModel();
    const wait = plans[0]!.paths.flatMap((p) => p.actions).find((a) => a.type === 'wait' && a.delay === 'negotiationTimeout');
    expect(wait).toBeDefined();
    const { state, commands } = run(model, [{ type: 'open' }, wait!]);
    expect(state.machine.value).toBe('closing');
    const error = commands[1]!.find((c) => c.type === 'send');
    expect(error?.type === 'send' && childElements(error.element).map((e) => e.name)).toContain('connection-timeout');
  });

  it('adds named scenarios that use only offered mechanisms (§6.3.3)', () => {
    const onlySha1 = newModel({ ...DEFAULT_SERVER_POLICY, mechanisms: ['SCRAM-SHA-1'] });
    const goals = scenarios(onlySha1).map((s) => s.goal).join('\n');
    expect(goals).toContain('SCRAM-SHA-1 login');
    expect(goals).not.toContain('SCRAM-SHA-256');
    expect(goals).not.toContain('PLAIN');
  });
});

describe('comparing server output with the model', () => {
  const features = (children: string) => `<stream:features xmlns:stream='${NS.STREAMS}'>${children}</stream:features>`;
  void features;

  it('normalizes what the RFC leaves open: ids, SCRAM data, error text, extension features', () => {
    const model = newModel();
    const { commands } = run(model, [...tlsLogin, { type: 'authScram', mechanism: 'SCRAM-SHA-256' }]);
    const expected = expectedObservations(commands.at(-1)!);
    expect(expected.map(canonical)).toEqual(["<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>r=*,s=*,i=*</challenge>"]);
    const withExtras = normalize({
      name: 'features',
      xmlns: NS.STREAMS,
      attrs: {},
      children: [
        { name: 'bind', xmlns: NS.BIND, attrs: {}, children: [{ name: 'required', xmlns: NS.BIND, attrs: {}, children: [] }] },
        { name: 'c', xmlns: 'http://jabber.org/protocol/caps', attrs: { ver: 'x' }, children: [] },
      ],
    });
    expect(withExtras.children).toEqual([{ name: 'bind', xmlns: NS.BIND, attrs: {}, children: [] }]);
  });

  it('reports a difference with both sides and what it means (§4.4 rule 1)', () => {
    const close = { kind: 'close' } as const;
    const eof = { kind: 'eof' } as const;
    expect(compareObservations([close], [close])).toBeUndefined();
    expect(compareObservations([close], [close, eof])).toMatchObject({ expected: ['</stream:stream>'], received: ['</stream:stream>', '(TCP closed)'], explanation: expect.stringContaining('§4.4 rule 1') });
  });
});
