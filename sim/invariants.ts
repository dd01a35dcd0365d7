/**
 * Invariants checked on every simulated run, each named after the RFC 6120 section it
 * enforces. They read only what crossed the links, what the host saw and what the peers
 * recorded, never the machines' internals: a broken machine cannot hide from them.
 */
import { NS } from '../machines/ns.js';
import { attr, type XmlElement } from '../machines/xml.js';
import { serializeElement, STREAM_CLOSE_TAG } from '../runtime/xml/serialize.js';
import type { LinkEnd, Segment } from './link.js';
import { MUST_STREAM_ERROR } from './scenario.js';
import type { World } from './world.js';

export const INVARIANTS = {
  'no-stanza-before-bind': '6120 §4.3.5 / §7.1',
  'stream-error-then-close': '6120 §4.9.1.1',
  'bounded-session': '6120 §4.6',
  'closing-handshake': '6120 §4.4',
  'no-credentials-in-clear': '6120 §5.3.1 / §13.9.4',
  'delivered-once-in-order': '6120 §10.1',
  'error-never-answered': '6120 §8.3.1',
  'iq-answered-once': '6120 §8.2.3',
  'absent-identical': '6120 §10.5',
  'server-output-well-formed': '6120 §11',
  'bad-input-stream-error': '6120 §4.9.3',
  'server-proof-verified': '6120 §6.4.6 / RFC 5802 §3',
  /** Bad input is answered, never a thrown exception (the run itself must not crash). */
  'no-crash': '6120 §4.9.1.1',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  readonly invariant: InvariantName;
  readonly rfc: string;
  readonly session: number;
  readonly message: string;
}

export interface CheckResult {
  readonly violations: Violation[];
  /** How many times each invariant was evaluated on this run. */
  readonly checks: Record<InvariantName, number>;
}

const isStreamError = (text: string) => text.startsWith('<stream:error');
const BIND_XMLNS = `xmlns='${NS.BIND}'`;
const NO_CHECKS = Object.fromEntries(Object.keys(INVARIANTS).map((k) => [k, 0])) as Record<InvariantName, number>;

/** The checks of one run and what they found. */
class Checker {
  readonly violations: Violation[] = [];
  readonly checks = { ...NO_CHECKS };

  check(invariant: InvariantName): void {
    this.checks[invariant]++;
  }

  fail(invariant: InvariantName, session: number, message: string): void {
    this.violations.push({ invariant, rfc: INVARIANTS[invariant], session, message });
  }
}

export function checkInvariants(world: World): CheckResult {
  const c = new Checker();
  const { scenario } = world;
  const closeWait = scenario.server.timeouts.closeWait;

  // §4.6: the run ended on its own: no session still open, no timer or registration left behind.
  c.check('bounded-session');
  if (world.clock.pending > 0) c.fail('bounded-session', -1, `${world.clock.pending} timer(s) still pending at ${world.clock.now()} (horizon ${world.horizon}): a hang or a leaked timer`);
  if (world.host.registered > 0) c.fail('bounded-session', -1, `${world.host.registered} session(s) still registered for routing: leaked session`);

  const absentErrors = new Map<string, string>();

  scenario.clients.forEach((plan, i) => {
    const link = world.links[i]!;
    const server = world.serverOf[i];
    const client = world.clients[i]!.record;
    const fromServer: Segment[] = [];
    const fromClient: Segment[] = [];
    for (const s of link.segments) (s.from === 'b' ? fromServer : fromClient).push(s);
    const disturbed = link.cut || link.b.writeFailedReported || plan.link.tlsFails === true;

    if (plan.kind === 'machine') {
      // Our client machine, against the real server or a faulty scripted one.
      const clientDisturbed = link.cut || link.a.writeFailedReported || plan.link.tlsFails === true || plan.server === 'handshake-fails';
      c.check('bounded-session');
      if (client.outcome === undefined) c.fail('bounded-session', i, `client machine still open at ${world.clock.now()}`);
      endOfStream(c, 'client', fromClient, link.a, clientDisturbed, closeWait, i);
      // §5.3.1 / §13.9.4: the client requires TLS; no <auth/> or <response/> crosses a clear link.
      c.check('no-credentials-in-clear');
      for (const x of fromClient) if (!x.encrypted && /^<(auth|response)[\s>/]/.test(x.text)) c.fail('no-credentials-in-clear', i, `client machine sent ${x.text.slice(0, 60)} without TLS`);
      if (plan.server === 'bad-server-signature' && fromServer.some((x) => x.text.startsWith('<success'))) {
        // RFC 5802 §3 / §6.4.6: a server that cannot prove it knows the password is not trusted.
        c.check('server-proof-verified');
        if (client.jid !== undefined || fromClient.some((x) => /^<iq[\s>]/.test(x.text))) c.fail('server-proof-verified', i, 'the client machine went on after a <success/> whose server signature does not verify');
      }
    }
    if (!server) return;

    c.check('bounded-session');
    if (server.driver.outcome === undefined) c.fail('bounded-session', i, `server session still open at ${world.clock.now()}, even after an operator shutdown`);
    if (world.openAtHorizon.includes(server.index) && !idleButAlive(plan, scenario.server.keepalive)) {
      c.fail('bounded-session', i, `server session still open at the horizon ${world.horizon} (a hang)`);
    }

    // §4.3.5 / §7.1: nothing routed from or to a stream before it is authenticated and bound.
    c.check('no-stanza-before-bind');
    const { events } = server;
    const boundAt = events.findIndex((e) => e.type === 'bound');
    const authAt = events.findIndex((e) => e.type === 'authenticated');
    for (let k = 0; k < events.length; k++) {
      const e = events[k]!;
      if ((e.type === 'deliver' || e.type === 'routeIn') && (boundAt === -1 || k < boundAt || authAt === -1 || authAt > boundAt)) {
        c.fail('no-stanza-before-bind', i, `${e.type} of <${e.stanza.name} id='${attr(e.stanza, 'id') ?? ''}'> at ${e.at} before the stream was authenticated and bound`);
      }
    }
    // Before the bind result the server writes no stanza but answers to bind requests (§7.6.2 IQ errors).
    const bindResultAt = fromServer.findIndex((s) => s.text.includes(BIND_XMLNS) && s.text.includes("type='result'"));
    const beforeBind = bindResultAt === -1 ? fromServer.length : bindResultAt;
    for (let k = 0; k < beforeBind; k++) {
      const s = fromServer[k]!;
      const answer = /^<iq [^>]*type='(result|error)'/.test(s.text);
      if (/^<(message|presence|iq)[\s>/]/.test(s.text) && !answer) {
        c.fail('no-stanza-before-bind', i, `server wrote a stanza before binding: ${s.text.slice(0, 80)}`);
      }
    }

    const { errorAt, closeAt } = endOfStream(c, 'server', fromServer, link.b, disturbed, closeWait, i);

    // §5.3.1 / §13.9.4: with TLS required, no SASL exchange crosses the link in clear.
    if (scenario.server.tls === 'required') {
      c.check('no-credentials-in-clear');
      for (const s of fromServer) if (!s.encrypted && /^<(challenge|success)[\s>/]/.test(s.text)) c.fail('no-credentials-in-clear', i, `server sent ${s.text.slice(0, 60)} before TLS`);
    }
    if (plan.misbehave === undefined) {
      // The client requires TLS (§5.3.1): it must never put credentials on a clear link.
      c.check('no-credentials-in-clear');
      for (const s of fromClient) if (!s.encrypted && /^<(auth|response)[\s>/]/.test(s.text)) c.fail('no-credentials-in-clear', i, `client sent ${s.text.slice(0, 60)} without TLS`);
    }

    // §11: whatever happens, the server writes a well-formed stream.
    c.check('server-output-well-formed');
    for (const e of client.parseErrors) c.fail('server-output-well-formed', i, `the client could not parse the server: ${e}`);

    // §4.9.3: bad input the server received ends in a stream error.
    if (plan.misbehave && client.misbehavedAt !== undefined && MUST_STREAM_ERROR.has(plan.misbehave.what) && !disturbed && plan.stop === undefined) {
      const endedBefore = events.find((e) => e.type === 'ended' && e.at <= client.misbehavedAt!);
      // Once the server has closed gracefully it writes nothing more (§4.4 rule 2), stream errors included.
      const closedGracefully = closeAt !== -1 && (errorAt === -1 || errorAt > closeAt);
      if (!endedBefore && !closedGracefully) {
        c.check('bad-input-stream-error');
        if (errorAt === -1) c.fail('bad-input-stream-error', i, `'${plan.misbehave.what}' at ${plan.misbehave.at} did not end in a stream error (outcome ${JSON.stringify(server.driver.outcome)})`);
      }
    }

    const conformant = plan.misbehave === undefined && plan.stop === undefined;
    const clean = conformant && !disturbed && scenario.operator === undefined && plan.ending === 'client-close' && server.driver.outcome?.kind === 'closed' && client.jid !== undefined;

    // §10.1: stanzas after binding are routed exactly once, in order; all of them on a clean run.
    if (client.jid !== undefined && plan.misbehave === undefined) {
      c.check('delivered-once-in-order');
      const sentIds = client.sent.map((s) => s.id);
      const known = new Set(sentIds);
      const delivered: string[] = [];
      for (const e of events) {
        if (e.type !== 'deliver') continue;
        const id = attr(e.stanza, 'id') ?? '';
        if (known.has(id)) delivered.push(id);
      }
      const prefix = sentIds.slice(0, delivered.length);
      if (delivered.join() !== prefix.join()) c.fail('delivered-once-in-order', i, `routed [${delivered.join(' ')}] is not the sent sequence [${sentIds.join(' ')}] in order, once each`);
      else if (clean && delivered.length !== sentIds.length) c.fail('delivered-once-in-order', i, `only ${delivered.length} of ${sentIds.length} stanzas routed on a clean session`);
    }
    // Recipients never get the same stanza twice.
    const seen = new Set<string>();
    for (const { stanza } of client.received) {
      const key = `${stanza.name}|${attr(stanza, 'from') ?? ''}|${attr(stanza, 'id') ?? ''}|${attr(stanza, 'type') ?? ''}`;
      if (seen.has(key)) c.fail('delivered-once-in-order', i, `received twice: ${key}`);
      seen.add(key);
    }

    // §8.3.1 and §8.2.3: answers to what this client sent (what it received, by id).
    const byId = new Map<string, XmlElement[]>();
    for (const { stanza } of client.received) {
      const id = attr(stanza, 'id');
      if (id === undefined) continue;
      const same = byId.get(id);
      if (same) same.push(stanza);
      else byId.set(id, [stanza]);
    }
    for (const s of client.sent) {
      const answers = byId.get(s.id) ?? [];
      if (s.type === 'error') {
        c.check('error-never-answered');
        if (answers.some((a) => attr(a, 'type') === 'error')) c.fail('error-never-answered', i, `error stanza ${s.id} was answered with an error`);
      }
      if (s.name === 'iq' && (s.type === 'get' || s.type === 'set')) {
        c.check('iq-answered-once');
        const replies = answers.filter((a) => a.name === 'iq' && (attr(a, 'type') === 'result' || attr(a, 'type') === 'error'));
        if (replies.length > 1) c.fail('iq-answered-once', i, `IQ ${s.id} answered ${replies.length} times`);
        // Completeness is judged on scripted clients, which record everything they read. The
        // client machine stops delivering once it has sent its own closing tag, so an answer
        // that crosses our close is not seen by its application (at most once still holds).
        if (replies.length === 0 && clean && plan.kind === 'script') c.fail('iq-answered-once', i, `IQ ${s.id} (${s.kind}) never answered on a clean session`);
      }
      // §10.5: the same error for an absent user's bare and full JIDs.
      if (s.kind.includes('absent') && s.type !== 'error') {
        for (const stanza of answers) {
          if (attr(stanza, 'type') !== 'error') continue;
          c.check('absent-identical');
          const shape = normalized(stanza);
          const group = s.name;
          const first = absentErrors.get(group);
          if (first === undefined) absentErrors.set(group, shape);
          else if (first !== shape) c.fail('absent-identical', i, `absent-user errors differ (${s.kind}): ${first} vs ${shape}`);
        }
      }
    }
  });
  return { violations: c.violations, checks: c.checks };
}

/**
 * §4.9.1.1 and §4.4 for what one end (`who`) wrote and how its socket ended. Returns where
 * its first stream error and its first closing tag are in `written` (-1: none).
 */
function endOfStream(c: Checker, who: 'server' | 'client', written: Segment[], end: LinkEnd, disturbed: boolean, closeWait: number, i: number): { errorAt: number; closeAt: number } {
  const errorAt = written.findIndex((x) => isStreamError(x.text));
  if (errorAt !== -1) {
    c.check('stream-error-then-close');
    const closeTag = written.findIndex((x, k) => k > errorAt && x.text === STREAM_CLOSE_TAG);
    if (closeTag === -1 && !disturbed) c.fail('stream-error-then-close', i, `${who} stream error without a closing tag: ${written[errorAt]!.text.slice(0, 120)}`);
    if (end.closeCalledAt === undefined && end.goneAt === undefined) c.fail('stream-error-then-close', i, `${who} stream error but the TCP connection was never closed`);
  }
  const closeIdx = written.findIndex((x) => x.text === STREAM_CLOSE_TAG);
  if (closeIdx !== -1) {
    c.check('closing-handshake');
    const closeTagAt = written[closeIdx]!.at;
    if (closeIdx + 1 < written.length) c.fail('closing-handshake', i, `${who} wrote after its closing tag: ${written[closeIdx + 1]!.text.slice(0, 80)}`);
    const socketEnd = Math.min(end.closeCalledAt ?? Infinity, end.goneAt ?? Infinity);
    if (socketEnd === Infinity) c.fail('closing-handshake', i, `${who} sent its closing tag but the connection never closed`);
    else if (socketEnd - closeTagAt > closeWait) c.fail('closing-handshake', i, `${who} connection closed ${socketEnd - closeTagAt} ms after its closing tag (closeWait ${closeWait})`);
  }
  return { errorAt, closeAt: closeIdx };
}

/**
 * §4.6.3: a peer that never writes again but keeps its TCP connection up (reading, or
 * not reading while the buffers still take the bytes) is an idle peer, not a dead one; with whitespace keepalives (no "pong", §4.6.1)
 * the server is free to keep its stream open ("liberal in accepting idle peers"). Only
 * XEP-0199 pings (§4.6.2) bound such a session.
 */
function idleButAlive(plan: World['scenario']['clients'][number], keepalive: 'ping' | 'whitespace'): boolean {
  const how = plan.stop?.how;
  return keepalive === 'whitespace' && (how === 'silent' || how === 'stop-reading') && (plan.stop!.at === 'established' || plan.stop!.at === 'closing');
}

/** An error stanza without its addressing (what may legitimately differ between bare and full targets). */
function normalized(e: XmlElement): string {
  const { id: _id, to: _to, from: _from, ...rest } = e.attrs;
  return serializeElement({ ...e, attrs: rest }, NS.CLIENT);
}
