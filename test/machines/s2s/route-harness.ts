/**
 * A route machine (machines/s2s/route) on a simulated clock, its commands recorded in order:
 * what the unit tests and the property test share.
 */
import { createActor, SimulatedClock } from 'xstate';
import { resolveRoutePolicy, s2sRouteMachine, type RouteCommand, type RouteEvent, type RouteInput } from '../../../machines/s2s/route/index.js';
import { el, type XmlElement } from '../../../machines/xml.js';
import { leaves } from '../recorder.js';

export const LOCAL = 'montague.example';
export const REMOTE = 'capulet.example';

/** The test policy: small queue, short timers, a back-off window of [100, 400 · 2ⁿ] up to 1600 ms. */
export const POLICY = resolveRoutePolicy({ maxQueued: 3, timeouts: { connect: 1000, idleClose: 5000 }, retry: { min: 100, initial: 400, max: 1600 } });

export function message(n: number, attrs: Record<string, string> = {}): XmlElement {
  return el('message', 'jabber:client', { from: `romeo@${LOCAL}/orchard`, to: `juliet@${REMOTE}`, id: `m${n}`, type: 'chat', ...attrs }, el('body', 'jabber:client', {}, `hello ${n}`));
}

export function route(over: Partial<RouteInput> = {}) {
  const clock = new SimulatedClock();
  const input: RouteInput = { local: LOCAL, remote: REMOTE, ...POLICY, random: () => 0.5, ...over };
  const actor = createActor(s2sRouteMachine, { input, clock });
  const all: RouteCommand[] = [];
  let mark = 0;
  actor.on('*', (c) => void all.push(c));
  actor.start();
  const take = () => {
    const out = all.slice(mark);
    mark = all.length;
    return out;
  };
  return {
    actor,
    clock,
    all,
    take,
    step(e: RouteEvent) {
      take();
      actor.send(e);
      return take();
    },
    advance(ms: number) {
      take();
      clock.increment(ms);
      return take();
    },
    get state() {
      return leaves(actor.getSnapshot().value).join(',');
    },
    get queued() {
      return actor.getSnapshot().context.queue.length;
    },
  };
}
export type Route = ReturnType<typeof route>;

/** idle → connecting → negotiating → authenticated, with nothing queued. */
export function authenticated(over: Partial<RouteInput> = {}): Route {
  const r = route(over);
  r.step({ type: 'SEND', stanza: message(0) });
  r.step({ type: 'CONNECTED' });
  r.step({ type: 'AUTHENTICATED' });
  r.take();
  return r;
}
