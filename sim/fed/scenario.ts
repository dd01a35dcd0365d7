/**
 * The 'federation' scenario family: two or three of our servers (a.test, b.test, c.test),
 * each the sim host plus a real Federation (runtime/s2s), clients that are the real
 * initiating-entity machine, server-to-server links with the same faults as client links,
 * a certificate per server, and now and then a forging peer server. Plain JSON, like every
 * scenario: the seed drives everything the plan leaves open.
 */
import fc from 'fast-check';
import type { LinkPlan } from '../scenario.js';

export const FED_DOMAINS = ['a.test', 'b.test', 'c.test'] as const;
export type FedDomain = (typeof FED_DOMAINS)[number];
/** A domain no server of the world hosts (§10.4.3: its stanzas are bounced). */
export const UNKNOWN_DOMAIN = 'nowhere.test';
/** The domain the forger really owns ('spoof-after-auth'): its Authoritative Server is sim/fed/authority.ts. */
export const EVIL_DOMAIN = 'evil.test';

/** §13.7.2.1: trusted and naming its domain, trusted but naming another, or an untrusted chain. */
export type CertificateKind = 'good' | 'wrong-name' | 'untrusted';

export interface FedStanzaStep {
  readonly kind: 'msg' | 'iq';
  /** Index into the world's servers, or -1 for UNKNOWN_DOMAIN. */
  readonly server: number;
  /** 'nobody' has no account anywhere (§10.5.3 on the remote side). */
  readonly user: 'alice' | 'bob' | 'carol' | 'nobody';
  readonly gap: number;
}

export interface FedClientPlan {
  readonly user: 'alice' | 'bob' | 'carol';
  readonly startAt: number;
  readonly stanzas: readonly FedStanzaStep[];
  readonly idle: number;
}

export interface FedServerPlan {
  readonly domain: FedDomain;
  readonly certificate: CertificateKind;
  /** XEP-0220 allowed, or "certificates required" (XEP-0178 SASL EXTERNAL only). */
  readonly dialback: boolean;
  /** §5.3.1 for server-to-server streams. */
  readonly tls: 'required' | 'optional';
  readonly clients: readonly FedClientPlan[];
}

/** What a forging peer server does (XEP-0220 §2.2.1, §2.2.2; RFC 6120 §4.3.5, §8.1.2.2). */
export type ForgeryMode =
  /** Dialback with a key it cannot know, for a domain it does not own; then stanzas from that domain. */
  | 'wrong-key'
  /** No authentication at all: stanzas with a 'from' it never authenticated. */
  | 'unauthenticated-from'
  /** It owns evil.test (its own Authoritative Server says 'valid'), authenticates it by dialback, then sends stanzas 'from' the claimed domain. */
  | 'spoof-after-auth';

export interface ForgerPlan {
  /** The server it connects to (index). */
  readonly target: number;
  /** The domain it claims (for 'spoof-after-auth': the 'from' of its stanzas): another server of the world, or one nobody hosts. */
  readonly claims: FedDomain | 'evil.test';
  readonly mode: ForgeryMode;
  readonly startAt: number;
  /** It closes its stream after this long (or never: the receiving server's timeouts end it, §4.6). */
  readonly closeAfter?: number;
}

export interface FedLinkPlan extends LinkPlan {
  /** The faults apply to this many first connections of the pair; later ones are clean (so a route can recover). */
  readonly faultyConnections: number;
}

export interface FederationScenario {
  readonly name: 'federation';
  readonly seed: number;
  readonly servers: readonly FedServerPlan[];
  /** Faults of the connections from servers[i] to servers[j], keyed `${i}>${j}`. */
  readonly links: Readonly<Record<string, FedLinkPlan>>;
  readonly forger?: ForgerPlan;
}

const stanza = (servers: number): fc.Arbitrary<FedStanzaStep> =>
  fc.record({
    kind: fc.constantFrom<FedStanzaStep['kind']>('msg', 'msg', 'iq'),
    server: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: servers - 1 }) }, { weight: 1, arbitrary: fc.constant(-1) }),
    user: fc.constantFrom<FedStanzaStep['user']>('alice', 'bob', 'carol', 'nobody'),
    gap: fc.integer({ min: 0, max: 40 }),
  });

const client = (servers: number): fc.Arbitrary<FedClientPlan> =>
  fc.record({
    user: fc.constantFrom<FedClientPlan['user']>('alice', 'bob', 'carol'),
    startAt: fc.integer({ min: 0, max: 50 }),
    stanzas: fc.array(stanza(servers), { maxLength: 6 }),
    idle: fc.integer({ min: 0, max: 3_000 }),
  });

const linkPlan: fc.Arbitrary<FedLinkPlan> = fc.record(
  {
    maxFragment: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 64, max: 65_536 })),
    delay: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 30 })).map(([lo, extra]) => [lo, lo + extra] as const),
    cutAfterBytes: fc.integer({ min: 0, max: 4000 }),
    tlsFails: fc.boolean(),
    serverWriteFailAfter: fc.integer({ min: 0, max: 4000 }),
    // Mostly clean: 0 faulty connections three times in five.
    faultyConnections: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 2 }) }),
  },
  { requiredKeys: ['maxFragment', 'delay', 'faultyConnections'] },
);

const serverPlan = (domain: FedDomain, servers: number): fc.Arbitrary<FedServerPlan> =>
  fc.record({
    domain: fc.constant(domain),
    certificate: fc.constantFrom<CertificateKind>('good', 'good', 'wrong-name', 'untrusted'),
    dialback: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    tls: fc.constantFrom<FedServerPlan['tls']>('required', 'required', 'optional'),
    clients: fc.array(client(servers), { minLength: 1, maxLength: 2 }),
  });

const forger = (servers: number): fc.Arbitrary<ForgerPlan> =>
  fc.record(
    {
      target: fc.integer({ min: 0, max: servers - 1 }),
      claims: fc.constantFrom<ForgerPlan['claims']>(...FED_DOMAINS.slice(0, servers), 'evil.test'),
      mode: fc.constantFrom<ForgeryMode>('wrong-key', 'unauthenticated-from', 'spoof-after-auth'),
      startAt: fc.integer({ min: 0, max: 200 }),
      closeAfter: fc.integer({ min: 500, max: 10_000 }),
    },
    { requiredKeys: ['target', 'claims', 'mode', 'startAt'] },
  );

export const federationArbitrary: fc.Arbitrary<FederationScenario> = fc.integer({ min: 2, max: 3 }).chain((n) => {
  const pairs: string[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) pairs.push(`${i}>${j}`);
  return fc.record(
    {
      name: fc.constant('federation' as const),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      servers: fc.tuple(...FED_DOMAINS.slice(0, n).map((d) => serverPlan(d, n))),
      // Most pairs clean, some faulty (a faulty plan with faultyConnections 0 is clean too).
      links: fc.record(Object.fromEntries(pairs.map((p) => [p, linkPlan])) as Record<string, fc.Arbitrary<FedLinkPlan>>),
      forger: fc.option(forger(n), { nil: undefined, freq: 2 }),
    },
    { requiredKeys: ['name', 'seed', 'servers', 'links'] },
  );
});
