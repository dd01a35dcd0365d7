/**
 * What both stream-machine harnesses share: a deterministic random source, the test timeouts,
 * an actor on a SimulatedClock whose emitted commands are recorded in order, and helpers that
 * read those commands.
 */
import type { Actor, AnyActor, AnyStateMachine, EventFromLogic, SimulatedClock } from 'xstate';
import { NS } from '../../machines/ns.js';
import type { Command, StreamOutcome } from '../../machines/protocol.js';
import type { XmlElement } from '../../machines/xml.js';

/** Counter-based bytes: deterministic, and never the same n bytes twice in a run. */
export function counterRandom(seed = 1): (n: number) => Uint8Array {
  let counter = seed * 1_000_003;
  return (n: number) => {
    const out = new Uint8Array(n);
    let x = counter++;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i + 0x9e3779b9) >>> 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

export const TIMEOUTS = { negotiation: 60_000, idle: 300_000, pingResponse: 30_000, closeWait: 10_000 } as const;

export interface Recorder<TLogic extends AnyStateMachine> {
  readonly actor: Actor<TLogic>;
  readonly clock: SimulatedClock;
  /** Every command emitted so far. */
  readonly all: Command[];
  send(event: EventFromLogic<TLogic>): void;
  /** Commands emitted since the last take(). */
  take(): Command[];
  /** Send an event and return the commands it caused. */
  step(event: EventFromLogic<TLogic>): Command[];
  advance(ms: number): Command[];
  /** The state value as a dotted path of its active leaves, e.g. 'open.negotiating.saslNegotiation.featuresSent'. */
  at(): string[];
  readonly done: boolean;
  /** The outcome of the `ended` command, once emitted. */
  readonly outcome: StreamOutcome | undefined;
}

/** Starts `actor` (created on `clock`, not started yet) and records every command it emits. */
export function recordCommands<TLogic extends AnyStateMachine>(actor: Actor<TLogic>, clock: SimulatedClock): Recorder<TLogic> {
  const all: Command[] = [];
  let mark = 0;
  (actor as AnyActor).on('*', (c) => {
    all.push(c as Command);
  });
  actor.start();
  const snapshot = () => (actor as AnyActor).getSnapshot() as { value: unknown; status: string };
  const take = () => {
    const out = all.slice(mark);
    mark = all.length;
    return out;
  };
  return {
    actor,
    clock,
    all,
    send: (e) => actor.send(e),
    take,
    step(e) {
      take();
      actor.send(e);
      return take();
    },
    advance(ms) {
      take();
      clock.increment(ms);
      return take();
    },
    at: () => leaves(snapshot().value),
    get done() {
      return snapshot().status === 'done';
    },
    get outcome() {
      const ended = all.find((c) => c.type === 'ended');
      return ended?.type === 'ended' ? ended.outcome : undefined;
    },
  };
}

export function leaves(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, `${prefix}${k}.`));
}

// Command helpers ------------------------------------------------------------------

export function sent(cmds: Command[]): XmlElement[] {
  return cmds.flatMap((c) => (c.type === 'send' ? [c.element] : []));
}
export function types(cmds: Command[]): string[] {
  return cmds.map((c) => (c.type === 'send' ? `send:${c.element.name}` : c.type));
}
/** The defined condition inside a `<stream:error/>`, `<failure/>` or `<error/>`. */
export function conditionIn(e: XmlElement | undefined, ns: string): string | undefined {
  return e?.children.find((c): c is XmlElement => typeof c !== 'string' && c.xmlns === ns && c.name !== 'text')?.name;
}
export function streamErrorOf(cmds: Command[]): string | undefined {
  const e = sent(cmds).find((x) => x.name === 'error' && x.xmlns === NS.STREAMS);
  return conditionIn(e, NS.STREAM_ERRORS);
}
