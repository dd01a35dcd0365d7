/**
 * Invariants of a federated world, each named by the section it enforces. Like sim/invariants.ts
 * they read only what is observable: what crossed the links, what each host handed to its
 * federation and got from it, the servers' log records, what the forger was told.
 */
import { NS } from '../../machines/ns.js';
import { parseJid } from '../../machines/jid.js';
import { attr, child, type XmlElement } from '../../machines/xml.js';
import { EVIL_DOMAIN } from './scenario.js';
import { FED_SHUTDOWN_GRACE, FED_TIMEOUTS, idOf, type FedServer, type FedWorld } from './world.js';

export const FED_INVARIANTS = {
  'unauthenticated-not-routed': '6120 §4.3.5, XEP-0220 §2.2.1',
  'from-authenticated': '6120 §8.1.2.2, §4.9.3.9',
  'delivered-or-bounced-once': '6120 §10.4.3',
  'forged-key-rejected': 'XEP-0220 §2.2.1, §2.2.2',
  'streams-end': '6120 §4.6',
  'nothing-in-clear': '6120 §5.3.1',
  'no-crash': '6120 §4.9.1.1',
} as const;
export type FedInvariant = keyof typeof FED_INVARIANTS;

export interface FedViolation {
  readonly invariant: FedInvariant;
  readonly rfc: string;
  readonly message: string;
}

export interface FedCheckResult {
  readonly violations: FedViolation[];
  readonly checks: Record<FedInvariant, number>;
  /** What became of each stanza handed to a route: delivered, bounced, lost (a cut stream, §10.4.3 has no acks). */
  readonly fates: Record<string, number>;
}

const domainOf = (jid: string | undefined) => (jid === undefined ? undefined : parseJid(jid)?.domain);
/** A route's or stream's own bounce (bounce.ts: 'by' names the bouncing server, §8.3.1 rule 5). */
const bouncedBy = (s: XmlElement, domain: string) => attr(s, 'type') === 'error' && attr(child(s, 'error', NS.CLIENT) ?? s, 'by') === domain;

export function checkFederation(world: FedWorld): FedCheckResult {
  const checks = Object.fromEntries(Object.keys(FED_INVARIANTS).map((k) => [k, 0])) as Record<FedInvariant, number>;
  const violations: FedViolation[] = [];
  const fates: Record<string, number> = {};
  const check = (i: FedInvariant) => checks[i]++;
  const fail = (invariant: FedInvariant, message: string) => violations.push({ invariant, rfc: FED_INVARIANTS[invariant], message });
  const byDomain = new Map(world.servers.map((s) => [s.domain, s]));
  const forgerConn = (s: FedServer) => new Set(s.logs.filter((l) => l.event === 's2s.in.open' && l.fields['remote'] === 'sim:forger').map((l) => l.fields['conn']));

  const owns = world.scenario.forger?.mode === 'spoof-after-auth' ? EVIL_DOMAIN : undefined; // the one domain the forger may authenticate
  for (const s of world.servers) {
    const forged = forgerConn(s);
    // When each (from → us) pair was authenticated on an incoming stream, and on which.
    const auth = s.logs.filter((l) => l.event === 's2s.in.authenticated');
    for (const { at, stanza } of s.inbound) {
      const id = idOf(stanza);
      // §4.3.5 / XEP-0220 §2.2.1: nothing the forger sent is ever routed.
      check('unauthenticated-not-routed');
      if (id.startsWith('forged-')) fail('unauthenticated-not-routed', `${s.domain} routed the forger's <${stanza.name} id='${id}' from='${attr(stanza, 'from')}'>`);
      if (bouncedBy(stanza, s.domain)) continue;
      // §8.1.2.2: a stanza from a peer carries a 'from' domain authenticated (to us) before it arrived.
      check('from-authenticated');
      const from = domainOf(attr(stanza, 'from'));
      if (!auth.some((l) => l.at <= at && l.fields['from'] === from && l.fields['to'] === s.domain && (!forged.has(l.fields['conn']) || from === owns))) {
        fail('from-authenticated', `${s.domain} routed <${stanza.name} id='${id}'> from '${attr(stanza, 'from')}' at ${at}: ${from} was not authenticated to ${s.domain}`);
      }
      // ... and really comes from that domain's server (no server relays another's stanzas).
      const origin = from === undefined ? undefined : byDomain.get(from);
      if (origin !== undefined && !origin.sentRemote.some((x) => idOf(x.stanza) === id && attr(x.stanza, 'from') === attr(stanza, 'from'))) {
        fail('from-authenticated', `${s.domain} routed <${stanza.name} id='${id}'> from '${attr(stanza, 'from')}' that ${from} never sent`);
      }
    }

    // XEP-0220 §2.2.1 / §2.2.2: no stream of the forger is ever authenticated, by any method.
    check('forged-key-rejected');
    for (const l of auth) if (forged.has(l.fields['conn']) && l.fields['from'] !== owns) fail('forged-key-rejected', `${s.domain} authenticated the forger as ${String(l.fields['from'])} (${String(l.fields['method'])})`);

    // §10.4.3: every stanza handed to a route arrives once at its domain, or comes back once as a bounce.
    for (const { stanza } of s.sentRemote) {
      const id = idOf(stanza);
      if (!id.startsWith('f') || attr(stanza, 'type') === 'error' || attr(stanza, 'type') === 'result') continue;
      check('delivered-or-bounced-once');
      const target = byDomain.get(domainOf(attr(stanza, 'to')) ?? '');
      const delivered = target === undefined ? 0 : target.inbound.filter((x) => idOf(x.stanza) === id && attr(x.stanza, 'type') === attr(stanza, 'type')).length;
      const bounced = s.inbound.filter((x) => idOf(x.stanza) === id && bouncedBy(x.stanza, s.domain)).length;
      const fate = delivered + bounced === 0 ? 'lost' : delivered > 0 && bounced === 0 ? 'delivered' : bounced > 0 && delivered === 0 ? 'bounced' : 'both';
      fates[fate] = (fates[fate] ?? 0) + 1;
      if (delivered + bounced > 1) fail('delivered-or-bounced-once', `<${stanza.name} id='${id}'> from ${s.domain} to ${attr(stanza, 'to')}: delivered ${delivered} time(s), bounced ${bounced} time(s)`);
      // Lost is allowed only where a stream it was written on broke (no acks between servers, §10.4.3 covers failures to deliver that are known).
      else if (fate === 'lost' && !world.connections.some((c) => c.faulty && c.from === s.index && c.to === target?.index)) {
        fail('delivered-or-bounced-once', `<${stanza.name} id='${id}'> from ${s.domain} to ${attr(stanza, 'to')} was neither delivered nor bounced, with no connection from ${s.domain} to its domain disturbed`);
      }
    }

    // §4.6: after the shutdown every stream ended, within its grace and close bounds; nothing left open.
    check('streams-end');
    if (s.federation.connectionCount > 0) fail('streams-end', `${s.domain} still has ${s.federation.connectionCount} server-to-server connection(s) after its shutdown`);
    if (s.host.registered > 0) fail('streams-end', `${s.domain} still has ${s.host.registered} client session(s) registered`);
  }

  const bound = world.shutdownAt + FED_SHUTDOWN_GRACE + 4 * FED_TIMEOUTS.closeWait + 1_000;
  world.connections.forEach((c, k) => {
    check('streams-end');
    for (const end of [c.link.a, c.link.b]) {
      if (end.goneAt === undefined && !c.link.cut) fail('streams-end', `s2s connection ${k} (${c.from}→${c.to}) end ${end.name} never closed`);
      else if ((end.goneAt ?? 0) > bound) fail('streams-end', `s2s connection ${k} (${c.from}→${c.to}) end ${end.name} closed at ${end.goneAt}, after ${bound}`);
    }
    // §5.3.1: a server of ours that requires TLS writes no dialback, SASL or stanza in clear (the forger's bytes are its own business).
    const ours = { a: world.scenario.servers[c.from], b: world.scenario.servers[c.to] };
    if (ours.a?.tls !== 'required' && ours.b?.tls !== 'required') return;
    check('nothing-in-clear');
    for (const seg of c.link.segments) {
      if (ours[seg.from]?.tls !== 'required' || seg.encrypted) continue;
      if (/^<(db:result|db:verify|auth|response|success|message|presence|iq)[\s>/]/.test(seg.text)) {
        fail('nothing-in-clear', `s2s connection ${k} (${c.from}→${c.to}): ${ours[seg.from]!.domain}, which requires TLS, wrote ${seg.text.slice(0, 60)} in clear`);
      }
    }
  });
  check('streams-end');
  if (world.clock.pending > 0) fail('streams-end', `${world.clock.pending} timer(s) still pending at ${world.clock.now()} after the shutdown: a hang or a leaked timer`);
  for (const s of world.servers) for (const c of s.clients) if (c.outcome === undefined) fail('streams-end', `client ${c.index} of ${s.domain} still open`);

  // XEP-0220 §2.1.3: the forger never hears 'valid'.
  const forger = world.forger;
  if (forger) {
    check('forged-key-rejected');
    if (forger.plan.mode !== 'spoof-after-auth' && forger.results.includes('valid')) fail('forged-key-rejected', `the forger claiming ${forger.plan.claims} was told its key is valid`);
  }
  return { violations, checks, fates };
}
