/**
 * What the learner chooses before a run: the seed and both ends' policies. A run is a pure
 * function of its choices and the faults injected on the way, so both go into the URL
 * fragment and a shared link replays the same run.
 */
import type { MechanismName } from '../machines/protocol.js';
import { DEFAULT_SERVER_POLICY } from '../machines/policy.js';
import type { Scenario } from '../sim/scenario.js';
import { FAULTS, type FaultKind } from './faults.js';

export const MECHANISMS: readonly MechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'];

export interface Choices {
  readonly seed: number;
  /** §5.3.1: the client's TLS policy. */
  readonly clientTls: 'required' | 'optional' | 'never';
  /** §6.3.3: the one mechanism the client will use. */
  readonly mechanism: MechanismName;
  /** §6.4.2: the first SASL message inside `<auth/>`. */
  readonly initialResponse: boolean;
  /** §7.7 the resourcepart the client asks for; '' lets the server generate one (§7.6). */
  readonly resource: string;
  /** §5.3.1: the server's TLS policy. */
  readonly serverTls: 'required' | 'optional' | 'none';
  /** §6.3.3: what the server offers. */
  readonly serverMechanisms: readonly MechanismName[];
  /** §6.4.5: failed authentications before the stream is closed. */
  readonly maxAuthAttempts: number;
}

export const DEFAULT_CHOICES: Choices = {
  seed: 1,
  clientTls: 'required',
  mechanism: 'SCRAM-SHA-256',
  initialResponse: true,
  resource: 'playground',
  serverTls: 'required',
  serverMechanisms: MECHANISMS,
  maxAuthAttempts: DEFAULT_SERVER_POLICY.maxAuthAttempts,
};

/** A fault and the step before which it was injected. */
export interface Injection {
  readonly step: number;
  readonly fault: FaultKind;
}

/** The one-client world of the playground: alice connects, says hello, pings the server and closes (§4.4). */
export function scenarioOf(c: Choices, injections: readonly Injection[] = []): Scenario {
  const wrongPassword = injections.some((i) => i.fault === 'wrong-password');
  return {
    name: 'playground',
    seed: c.seed,
    server: {
      ...DEFAULT_SERVER_POLICY,
      tls: c.serverTls,
      mechanisms: c.serverMechanisms,
      maxAuthAttempts: c.maxAuthAttempts,
    },
    clients: [
      {
        kind: 'machine',
        user: 'alice',
        mechanisms: [c.mechanism],
        initialResponse: c.initialResponse,
        ...(c.resource !== '' ? { resource: c.resource } : {}),
        tls: c.clientTls,
        ...(wrongPassword ? { password: 'not-the-password' } : {}),
        keepalive: 'ping',
        startAt: 0,
        stanzas: [
          { kind: 'presence', gap: 5 },
          { kind: 'msg-self', gap: 5 },
          { kind: 'ping-server', gap: 5 },
        ],
        idle: 20,
        ending: 'client-close',
        // Whole writes, one virtual millisecond apart: each step shows one element arriving.
        link: { maxFragment: 1 << 16, delay: [1, 1] },
      },
    ],
  };
}

/** `#seed=1&ctls=required&...&f=12:xml-comment,30:cut`: the choices that differ and the faults. */
export function toFragment(c: Choices, injections: readonly Injection[], step: number): string {
  const p = new URLSearchParams();
  p.set('seed', String(c.seed));
  p.set('ctls', c.clientTls);
  p.set('mech', c.mechanism);
  p.set('ir', c.initialResponse ? '1' : '0');
  p.set('res', c.resource);
  p.set('stls', c.serverTls);
  p.set('smech', c.serverMechanisms.join(' '));
  p.set('auth', String(c.maxAuthAttempts));
  if (injections.length > 0) p.set('f', injections.map((i) => `${i.step}:${i.fault}`).join(','));
  p.set('step', String(step));
  return p.toString();
}

const oneOf = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T => (allowed.includes(value as T) ? (value as T) : fallback);

export function fromFragment(fragment: string): { choices: Choices; injections: Injection[]; step: number } | undefined {
  const p = new URLSearchParams(fragment.replace(/^#/, ''));
  if (!p.has('seed')) return undefined;
  const d = DEFAULT_CHOICES;
  const seed = Number(p.get('seed'));
  const auth = Number(p.get('auth'));
  const smech = (p.get('smech') ?? '').split(' ').filter((m): m is MechanismName => MECHANISMS.includes(m as MechanismName));
  const choices: Choices = {
    seed: Number.isSafeInteger(seed) ? seed : d.seed,
    clientTls: oneOf(p.get('ctls'), ['required', 'optional', 'never'], d.clientTls),
    mechanism: oneOf(p.get('mech'), MECHANISMS, d.mechanism),
    initialResponse: p.get('ir') !== '0',
    resource: (p.get('res') ?? d.resource).replace(/[^\w.-]/g, ''),
    serverTls: oneOf(p.get('stls'), ['required', 'optional', 'none'], d.serverTls),
    serverMechanisms: p.has('smech') ? smech : d.serverMechanisms,
    maxAuthAttempts: Number.isInteger(auth) && auth >= 1 && auth <= 5 ? auth : d.maxAuthAttempts,
  };
  const injections = (p.get('f') ?? '')
    .split(',')
    .map((s) => /^(\d+):([\w-]+)$/.exec(s))
    .filter((m): m is RegExpExecArray => m !== null && (FAULTS as readonly string[]).includes(m[2]!))
    .map((m) => ({ step: Number(m[1]), fault: m[2] as FaultKind }));
  const step = Number(p.get('step'));
  return { choices, injections, step: Number.isInteger(step) && step >= 0 ? step : 0 };
}
