/**
 * fast-check generators of scenarios. Each scenario family stresses one side of the spec;
 * 'mixed' draws from all of them. Values are small on purpose: shrinking then lands on
 * short, readable counterexamples.
 */
import fc from 'fast-check';
import { SERVER_FAULTS } from './peers/server.js';
import type { MechanismName, Timeouts } from '../machines/protocol.js';
import {
  MISBEHAVIOURS, STANZA_KINDS, type ClientPlan, type OperatorAction, type LinkPlan, type Misbehaviour, type Phase, type Scenario,
  type MachineClientPlan, type ScriptedClientPlan, type ServerPlan, type StopMode,
} from './scenario.js';

export const SCENARIOS = ['mixed', 'conformant', 'misbehaving', 'silent', 'faults', 'servers'] as const;
export type ScenarioFamily = (typeof SCENARIOS)[number];

const MECHANISMS: MechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];

const timeouts: fc.Arbitrary<Timeouts> = fc.record({
  negotiation: fc.integer({ min: 500, max: 60_000 }),
  idle: fc.integer({ min: 1_000, max: 300_000 }),
  pingResponse: fc.integer({ min: 50, max: 30_000 }),
  closeWait: fc.integer({ min: 50, max: 10_000 }),
});

export const serverPlan: fc.Arbitrary<ServerPlan> = fc.record({
  tls: fc.constantFrom<ServerPlan['tls']>('required', 'required', 'optional', 'none'),
  mechanisms: fc.shuffledSubarray(MECHANISMS, { minLength: 1 }),
  allowPlainWithoutTls: fc.boolean(),
  maxAuthAttempts: fc.integer({ min: 2, max: 5 }),
  resourceConflict: fc.constantFrom<ServerPlan['resourceConflict']>('override', 'disallow', 'generate'),
  keepalive: fc.constantFrom<ServerPlan['keepalive']>('ping', 'whitespace'),
  timeouts,
});

function linkPlan(faulty: boolean): fc.Arbitrary<LinkPlan> {
  const base = {
    maxFragment: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 64, max: 65_536 })),
    delay: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 30 })).map(([lo, extra]) => [lo, lo + extra] as const),
  };
  if (!faulty) return fc.record(base);
  return fc.record(
    {
      ...base,
      cutAfterBytes: fc.integer({ min: 0, max: 3000 }),
      tlsFails: fc.boolean(),
      serverWriteFailAfter: fc.integer({ min: 0, max: 3000 }),
    },
    { requiredKeys: ['maxFragment', 'delay'] },
  );
}

const stanzas = fc.array(fc.record({ kind: fc.constantFrom(...STANZA_KINDS), gap: fc.integer({ min: 0, max: 20 }) }), { maxLength: 12 });

function basePlan(faulty: boolean) {
  return {
    kind: fc.constant('script' as const),
    // alice twice as often, one resource more often: concurrent sessions then compete for a JID (§7.7.2.2).
    user: fc.constantFrom<ScriptedClientPlan['user']>('alice', 'alice', 'bob', 'carol'),
    mechanisms: fc.shuffledSubarray(MECHANISMS, { minLength: 1 }),
    initialResponse: fc.boolean(),
    resource: fc.option(fc.constantFrom('home', 'home', 'work', 'phone'), { nil: undefined }),
    startAt: fc.integer({ min: 0, max: 50 }),
    stanzas,
    // Mostly short; sometimes past the server's idle timeout (§4.6.3 probes while the client is quiet).
    idle: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30_000 }) }),
    ending: fc.constantFrom<ScriptedClientPlan['ending']>('client-close', 'client-close', 'server-close', 'shutdown'),
    link: linkPlan(faulty),
  };
}

const misbehaviour: fc.Arbitrary<{ what: Misbehaviour; at: Phase }> = fc
  .constantFrom(...(Object.keys(MISBEHAVIOURS) as Misbehaviour[]))
  .chain((what) => fc.constantFrom(...(MISBEHAVIOURS[what] as readonly Phase[])).map((at) => ({ what, at })));

const stop: fc.Arbitrary<{ at: Phase; how: StopMode }> = fc.record({
  at: fc.constantFrom<Phase>('open', 'starttls', 'handshake', 'auth', 'challenge', 'bind', 'established', 'closing'),
  how: fc.constantFrom<StopMode>('silent', 'stop-reading', 'cut', 'socket-close'),
});

function clientPlan(family: 'conformant' | 'misbehaving' | 'silent' | 'faults'): fc.Arbitrary<ClientPlan> {
  const faulty = family === 'faults';
  const plan = fc.record(basePlan(faulty), { requiredKeys: ['kind', 'user', 'mechanisms', 'initialResponse', 'startAt', 'stanzas', 'idle', 'ending', 'link'] });
  if (family === 'misbehaving') return fc.tuple(plan, misbehaviour).map(([p, misbehave]) => ({ ...p, misbehave }));
  if (family === 'silent') return fc.tuple(plan, stop).map(([p, s]) => ({ ...p, stop: s }));
  return plan;
}

/** The project's initiating-entity machine with a random policy (PBKDF2 runs once per session on its side: kept rarer). */
const machineClient: fc.Arbitrary<ClientPlan> = fc.record(
  {
    kind: fc.constant('machine' as const),
    user: fc.constantFrom<MachineClientPlan['user']>('alice', 'bob', 'carol'),
    mechanisms: fc.shuffledSubarray(MECHANISMS, { minLength: 1 }),
    initialResponse: fc.boolean(),
    resource: fc.option(fc.constantFrom('home', 'work', 'phone'), { nil: undefined }),
    keepalive: fc.constantFrom<MachineClientPlan['keepalive']>('ping', 'whitespace'),
    startAt: fc.integer({ min: 0, max: 50 }),
    stanzas,
    idle: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30_000 }) }),
    ending: fc.constantFrom<MachineClientPlan['ending']>('client-close', 'client-close', 'server-close', 'shutdown'),
    link: linkPlan(false),
  },
  { requiredKeys: ['kind', 'user', 'mechanisms', 'initialResponse', 'keepalive', 'startAt', 'stanzas', 'idle', 'ending', 'link'] },
);

/** Our client machine against a scripted server with one fault (§4.3.2, §4.7, §5.3.1, §5.4, §6.4.6, §7.4). */
const againstBadServer: fc.Arbitrary<ClientPlan> = fc
  .tuple(machineClient, fc.constantFrom(...SERVER_FAULTS))
  .map(([plan, server]) => ({ ...(plan as MachineClientPlan), server }));

const familyClient = (family: ScenarioFamily): fc.Arbitrary<ClientPlan> =>
  family === 'servers'
    ? againstBadServer
    : family === 'conformant'
    ? fc.oneof({ weight: 4, arbitrary: clientPlan('conformant') }, { weight: 1, arbitrary: machineClient })
    : family === 'mixed'
    ? fc.oneof(
        { weight: 1, arbitrary: machineClient },
        { weight: 1, arbitrary: againstBadServer },
        { weight: 3, arbitrary: clientPlan('conformant') },
        { weight: 3, arbitrary: clientPlan('misbehaving') },
        { weight: 2, arbitrary: clientPlan('silent') },
        { weight: 2, arbitrary: clientPlan('faults') },
      )
    : clientPlan(family);

/** Now and then the operator acts on every session, whatever state it is in. */
const operator: fc.Arbitrary<OperatorAction> = fc.record({
  at: fc.integer({ min: 0, max: 200 }),
  action: fc.constantFrom<OperatorAction['action']>('shutdown', 'close', 'see-other-host', 'internal-server-error'),
});

export function scenarioArbitrary(family: ScenarioFamily = 'mixed'): fc.Arbitrary<Scenario> {
  const base = {
    name: fc.constant(family),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    server: serverPlan,
    clients: fc.array(familyClient(family), { minLength: 1, maxLength: 3 }),
  };
  if (family === 'mixed' || family === 'faults') {
    // One run in eight: the operator acts mid-run (most runs keep their clean-session checks).
    const maybeOperator = fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: operator });
    return fc.record({ ...base, operator: maybeOperator }, { requiredKeys: ['name', 'seed', 'server', 'clients'] });
  }
  return fc.record(base);
}
