/**
 * The client connection lifecycle (machines/connection): every transition, on a simulated
 * clock, checked by the state it reaches and the commands it emits, in order.
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { clientConnectionMachine, MAX_REDIRECTS, resolveBackoff, type ConnectionCommand, type ConnectionEvent, type ConnectionInput } from '../../../machines/connection/index.js';
import { describeMachine } from '../../../machines/introspect/model.js';
import type { StreamOutcome } from '../../../machines/protocol.js';
import { el } from '../../../machines/xml.js';

const HOME = { host: 'example.net', port: 5222 };
const LOST: StreamOutcome = { kind: 'transport', rfc: '6120 §4.6.1', text: 'ECONNRESET' };
const CLOSED: StreamOutcome = { kind: 'closed', rfc: '6120 §4.4' };
const CONFLICT: StreamOutcome = { kind: 'error-received', rfc: '6120 §4.9.3.3', condition: 'conflict' };
const SEE_OTHER: StreamOutcome = { kind: 'error-received', rfc: '6120 §4.9.3.19', condition: 'see-other-host', text: 'other.example.net:5223' };
const OTHER = { host: 'other.example.net', port: 5223 };
const stanza = (n: number) => el('message', 'jabber:client', { to: 'juliet@example.com', id: `m${n}` });

function lifecycle(over: Partial<ConnectionInput> = {}) {
  const clock = new SimulatedClock();
  const input: ConnectionInput = { home: HOME, reconnect: resolveBackoff({ min: 0, initial: 1000, max: 4000 }), maxQueued: 2, random: () => 0.5, ...over };
  const actor = createActor(clientConnectionMachine, { input, clock });
  const out: ConnectionCommand[] = [];
  actor.on('*', (c) => void out.push(c));
  actor.start();
  const take = () => out.splice(0);
  return {
    actor,
    clock,
    take,
    step(e: ConnectionEvent) {
      actor.send(e);
      return take();
    },
    advance(ms: number) {
      clock.increment(ms);
      return take();
    },
    get state() {
      const v = actor.getSnapshot().value;
      return typeof v === 'string' ? v : Object.entries(v).map(([k, s]) => `${k}.${String(s)}`)[0]!;
    },
    get queue() {
      return actor.getSnapshot().context.queue.length;
    },
  };
}

/** idle → connecting.tcp → connecting.negotiating → online. */
function online(over: Partial<ConnectionInput> = {}) {
  const l = lifecycle(over);
  l.step({ type: 'START' });
  l.step({ type: 'CONNECTED' });
  l.step({ type: 'ONLINE', jid: 'romeo@example.net/orchard' });
  return l;
}

describe('starting (RFC 6120 §3)', () => {
  it('START connects to the configured host', () => {
    const l = lifecycle();
    expect(l.state).toBe('idle');
    expect(l.step({ type: 'START' })).toEqual([{ type: 'connect', ...HOME }]);
    expect(l.state).toBe('connecting.tcp');
    expect(l.step({ type: 'CONNECTED' })).toEqual([]);
    expect(l.state).toBe('connecting.negotiating');
  });

  it('ONLINE writes the queued stanzas first, in order, then announces online (§4.3.5)', () => {
    const l = lifecycle();
    l.step({ type: 'SEND', stanza: stanza(1) }); // queued while idle
    l.step({ type: 'START' });
    l.step({ type: 'SEND', stanza: stanza(2) }); // queued while connecting
    expect(l.queue).toBe(2);
    l.step({ type: 'CONNECTED' });
    expect(l.step({ type: 'ONLINE', jid: 'romeo@example.net/orchard' })).toEqual([
      { type: 'write', stanza: stanza(1) },
      { type: 'write', stanza: stanza(2) },
      { type: 'online', jid: 'romeo@example.net/orchard' },
    ]);
    expect(l.state).toBe('online');
    expect(l.queue).toBe(0);
  });

  it('a full queue refuses the next stanza: SEND is not enabled', () => {
    const l = lifecycle({ maxQueued: 1 });
    l.step({ type: 'SEND', stanza: stanza(1) });
    expect(l.actor.getSnapshot().can({ type: 'SEND', stanza: stanza(2) })).toBe(false);
    l.step({ type: 'SEND', stanza: stanza(2) });
    expect(l.queue).toBe(1);
  });

  it('online, SEND writes at once', () => {
    const l = online();
    expect(l.step({ type: 'SEND', stanza: stanza(3) })).toEqual([{ type: 'write', stanza: stanza(3) }]);
  });
});

describe('stopping (§4.4)', () => {
  it('idle: stopped at once, nothing to close', () => {
    const l = lifecycle();
    expect(l.step({ type: 'STOP' })).toEqual([{ type: 'stopped', reason: 'stopped', outcome: undefined }]);
    expect(l.state).toBe('stopped');
    expect(l.actor.getSnapshot().status).toBe('done');
  });

  it('while TCP connects: the attempt is abandoned', () => {
    const l = lifecycle();
    l.step({ type: 'START' });
    expect(l.step({ type: 'STOP' })).toEqual([{ type: 'abort' }, { type: 'stopped', reason: 'stopped', outcome: undefined }]);
    expect(l.state).toBe('stopped');
  });

  it('while negotiating or online: the stream is closed, and its end is final', () => {
    for (const reach of [(l: ReturnType<typeof lifecycle>) => (l.step({ type: 'START' }), l.step({ type: 'CONNECTED' })), (l: ReturnType<typeof lifecycle>) => {
      l.step({ type: 'START' });
      l.step({ type: 'CONNECTED' });
      l.step({ type: 'ONLINE', jid: 'romeo@example.net/orchard' });
    }]) {
      const l = lifecycle();
      reach(l);
      expect(l.step({ type: 'STOP' })).toEqual([{ type: 'closeStream' }]);
      expect(l.state).toBe('stopping');
      expect(l.actor.getSnapshot().can({ type: 'SEND', stanza: stanza(1) })).toBe(false);
      // Even an outage a retry could cure does not bring it back after a stop.
      expect(l.step({ type: 'ENDED', outcome: LOST })).toEqual([
        { type: 'offline', outcome: LOST },
        { type: 'stopped', reason: 'stopped', outcome: LOST },
      ]);
      expect(l.state).toBe('stopped');
    }
  });

  it('while waiting to reconnect: stopped, and the retry never fires', () => {
    const l = online();
    l.step({ type: 'ENDED', outcome: LOST });
    expect(l.step({ type: 'STOP' })).toEqual([{ type: 'stopped', reason: 'stopped', outcome: LOST }]);
    expect(l.advance(10_000)).toEqual([]);
    expect(l.state).toBe('stopped');
  });
});

describe('reconnection (§3.3)', () => {
  it('an outage: offline, failed, a randomized delay, then a new connection to the configured host', () => {
    const l = online();
    expect(l.step({ type: 'ENDED', outcome: LOST })).toEqual([
      { type: 'offline', outcome: LOST },
      { type: 'failed', outcome: LOST },
      { type: 'reconnecting', attempt: 1, delayMs: 500, after: LOST }, // random 0.5 of [0, 1000]
    ]);
    expect(l.state).toBe('waiting');
    expect(l.advance(499)).toEqual([]);
    expect(l.advance(1)).toEqual([{ type: 'connect', ...HOME }]);
    expect(l.state).toBe('connecting.tcp');
  });

  it('the window doubles per failed attempt, truncated at max, and starts over once online', () => {
    const l = online();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const out = l.step({ type: 'ENDED', outcome: LOST });
      delays.push((out.find((c) => c.type === 'reconnecting') as { delayMs: number }).delayMs);
      l.advance(5000);
    }
    expect(delays).toEqual([500, 1000, 2000, 2000]); // windows 1000, 2000, 4000, 4000 (max)
    l.step({ type: 'CONNECTED' });
    l.step({ type: 'ONLINE', jid: 'romeo@example.net/orchard' });
    const after = l.step({ type: 'ENDED', outcome: LOST });
    expect(after).toContainEqual({ type: 'reconnecting', attempt: 1, delayMs: 500, after: LOST });
  });

  it('a clean close by the server is retried without a failure (a restarting server)', () => {
    const l = online();
    expect(l.step({ type: 'ENDED', outcome: CLOSED })).toEqual([
      { type: 'offline', outcome: CLOSED },
      { type: 'reconnecting', attempt: 1, delayMs: 500, after: CLOSED },
    ]);
  });

  it('START while waiting reconnects now', () => {
    const l = online();
    l.step({ type: 'ENDED', outcome: LOST });
    expect(l.step({ type: 'START' })).toEqual([{ type: 'connect', ...HOME }]);
    expect(l.advance(10_000)).toEqual([]); // the back-off timer went with the state
  });

  it('stanzas sent while waiting are queued and written after the reconnection', () => {
    const l = online();
    l.step({ type: 'ENDED', outcome: LOST });
    l.step({ type: 'SEND', stanza: stanza(7) });
    l.advance(500);
    l.step({ type: 'CONNECTED' });
    expect(l.step({ type: 'ONLINE', jid: 'romeo@example.net/orchard' })[0]).toEqual({ type: 'write', stanza: stanza(7) });
  });

  it('an outcome no retry can cure (<conflict/>, §4.9.3.3) is final', () => {
    const l = online();
    expect(l.step({ type: 'ENDED', outcome: CONFLICT })).toEqual([
      { type: 'offline', outcome: CONFLICT },
      { type: 'failed', outcome: CONFLICT },
      { type: 'stopped', reason: 'gave-up', outcome: CONFLICT },
    ]);
    expect(l.state).toBe('stopped');
  });

  it('maxAttempts used up: gives up', () => {
    const l = online({ reconnect: resolveBackoff({ initial: 10, maxAttempts: 2 }) });
    l.step({ type: 'ENDED', outcome: LOST });
    l.advance(10);
    l.step({ type: 'ENDED', outcome: LOST });
    l.advance(10);
    expect(l.step({ type: 'ENDED', outcome: LOST }).at(-1)).toEqual({ type: 'stopped', reason: 'gave-up', outcome: LOST });
  });

  it('no reconnection configured: the first failure is final, also before getting online', () => {
    const l = lifecycle({ reconnect: undefined });
    l.step({ type: 'START' });
    const refused: StreamOutcome = { kind: 'transport', rfc: '6120 §3', text: 'ECONNREFUSED' };
    expect(l.step({ type: 'ENDED', outcome: refused })).toEqual([
      { type: 'offline', outcome: refused },
      { type: 'failed', outcome: refused },
      { type: 'stopped', reason: 'gave-up', outcome: refused },
    ]);
  });
});

describe('see-other-host (§4.9.3.19)', () => {
  it('is followed at once, without back-off, and counted', () => {
    const l = lifecycle();
    l.step({ type: 'START' });
    l.step({ type: 'CONNECTED' });
    expect(l.step({ type: 'ENDED', outcome: SEE_OTHER, redirect: OTHER })).toEqual([
      { type: 'offline', outcome: SEE_OTHER },
      { type: 'redirected', ...OTHER, count: 1 },
      { type: 'connect', ...OTHER },
    ]);
    expect(l.state).toBe('connecting.tcp');
  });

  it(`after ${MAX_REDIRECTS} successive redirects the next one is an outage, retried at the configured host`, () => {
    const l = lifecycle();
    l.step({ type: 'START' });
    for (let i = 0; i < MAX_REDIRECTS; i++) l.step({ type: 'ENDED', outcome: SEE_OTHER, redirect: OTHER });
    const out = l.step({ type: 'ENDED', outcome: SEE_OTHER, redirect: OTHER });
    expect(out).toContainEqual({ type: 'failed', outcome: SEE_OTHER });
    expect(out.at(-1)).toMatchObject({ type: 'reconnecting', attempt: 1 });
    expect(l.advance(500)).toEqual([{ type: 'connect', ...HOME }]);
  });

  it('an unparseable target (no redirect given) is not followed', () => {
    const l = lifecycle({ reconnect: undefined });
    l.step({ type: 'START' });
    expect(l.step({ type: 'ENDED', outcome: SEE_OTHER }).at(-1)).toEqual({ type: 'stopped', reason: 'gave-up', outcome: SEE_OTHER });
  });

  it('the run of redirects ends once online: the next redirect counts from 1 again', () => {
    const l = lifecycle();
    l.step({ type: 'START' });
    l.step({ type: 'ENDED', outcome: SEE_OTHER, redirect: OTHER });
    l.step({ type: 'CONNECTED' });
    l.step({ type: 'ONLINE', jid: 'romeo@example.net/orchard' });
    expect(l.step({ type: 'ENDED', outcome: SEE_OTHER, redirect: OTHER })).toContainEqual({ type: 'redirected', ...OTHER, count: 1 });
  });
});

describe('the model', () => {
  it('every transition cites RFC 6120', () => {
    const model = describeMachine(clientConnectionMachine);
    expect(model.transitions.length).toBeGreaterThan(15);
    for (const t of model.transitions) expect(t.rfc, `${t.source} --${t.event}-->`).toMatch(/^6120 §\d/);
  });
});
