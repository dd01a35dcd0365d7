/**
 * The test model: the receiving-entity machine (machines/receiving/) driven by the client's
 * alphabet (./actions.ts), with the host's answers filled in the way a server with one
 * account answers them (the account store for `lookupCredentials`, an empty session registry
 * for `queryResource`). Pure: every step is `machine.transition` on an immutable snapshot, so
 * xstate/graph can branch from any state; timers are explicit `xstate.after.*` events (the
 * event XState itself raises when a delay expires), never real time.
 *
 * The same step function is the oracle while a path is played against a server: it says
 * which commands (bytes) the receiving entity must write after each client action.
 */
import { createActor, fromTransition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { Command, ReceivingEntityInput } from '../machines/protocol.js';
import { receivingEntityMachine, type ReceivingEntityEvent, type ReceivingEntityMachineInput } from '../machines/receiving/index.js';
import { deriveCredentials, type StoredCredentials } from '../machines/sasl/index.js';
import { concretize, observeServerElement, type Account, type ClientAction, type ClientState, type Concrete } from './actions.js';

/** The server policy the model runs with (the target's, where the RFC leaves a choice). */
export type ModelPolicy = Omit<ReceivingEntityMachineInput, 'random' | 'domain'>;

/** One transition definition as XState holds it (identity is what coverage counts). */
export type TransitionDef = object;

export interface ModelState {
  readonly machine: AnyMachineSnapshot;
  readonly client: ClientState;
  /** Commands the last step made the machine emit, in order. */
  readonly commands: readonly Command[];
  /** Transitions the last step took, in order. */
  readonly fired: readonly TransitionDef[];
}

export interface ModelOptions {
  readonly account: Account;
  readonly policy: ModelPolicy;
  /** Deterministic bytes for the machine's ids and nonces and the model client's nonces. */
  readonly random: (n: number) => Uint8Array;
  readonly machine?: AnyStateMachine;
}

/** Counter-based deterministic bytes (never the same n bytes twice in one model). */
export function seededRandom(seed = 1): (n: number) => Uint8Array {
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

/** The model event a concrete client action produces at the server's XML layer. */
export function modelEvent(concrete: Concrete, waitEventType?: string): ReceivingEntityEvent {
  switch (concrete.kind) {
    case 'header':
      return { type: 'HEADER', header: concrete.header };
    case 'element':
      return { type: 'ELEMENT', element: concrete.element };
    case 'raw':
      if (concrete.text.trim() === '') return { type: 'KEEPALIVE' };
      if (concrete.text === '</stream:stream>') return { type: 'STREAM_CLOSE' };
      return { type: 'PARSE_ERROR', condition: 'not-well-formed' }; // XML 1.0: nothing else is written raw
    case 'malformed':
      return { type: 'PARSE_ERROR', condition: concrete.condition }; // the condition ./faults.ts requires for the bytes
    case 'tls':
      return { type: 'TLS_ESTABLISHED' };
    case 'tlsGarbage':
      return { type: 'TLS_FAILED', reason: 'handshake failed' };
    case 'end':
      return { type: 'SOCKET_CLOSED' };
    case 'wait':
      return { type: waitEventType ?? `xstate.after.${concrete.delay}` } as unknown as ReceivingEntityEvent;
  }
}

/**
 * A pure stepper over the receiving-entity machine. One instance per model (its actor only
 * provides the scope XState's `transition` needs; it is never started).
 */
export class Model {
  readonly machine: AnyStateMachine;
  readonly input: ReceivingEntityMachineInput;
  private readonly account: Account;
  private readonly random: (n: number) => Uint8Array;
  private readonly cache = new Map<string, Uint8Array>();
  private credentialsCache: StoredCredentials | undefined;
  private sinkCommands: Command[] = [];
  private sinkFired: TransitionDef[] = [];
  private readonly scope: unknown;

  constructor(opts: ModelOptions) {
    this.machine = opts.machine ?? receivingEntityMachine;
    this.account = opts.account;
    this.random = opts.random;
    this.input = { ...opts.policy, domain: opts.account.domain, random: opts.random } as ReceivingEntityMachineInput;
    const self = createActor(this.machine, {
      input: this.input,
      inspect: (e) => {
        if (e.type === '@xstate.microstep') this.sinkFired.push(...((e as unknown as { _transitions: TransitionDef[] })._transitions ?? []));
      },
    });
    this.scope = {
      self,
      defer: (fn: () => void) => fn(),
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: (e: Command) => this.sinkCommands.push(e),
      // Only `emit` is performed (into the sink); delays are events the tests send, nothing else has effects.
      actionExecutor: (a: { type: string; exec?: (info: unknown, params: unknown) => void; info: unknown; params: unknown }) => {
        if (a.type === 'xstate.emit') a.exec?.(a.info, a.params);
      },
    };
  }

  initial(): ModelState {
    const machine = this.collect(() => this.machine.getInitialSnapshot(this.scope as never, this.input));
    return { machine: machine.snapshot, client: {}, commands: machine.commands, fired: machine.fired };
  }

  /** The account store's answer (the model's server has exactly the test account). */
  credentials(username: string): StoredCredentials | null {
    if (username !== this.account.user) return null;
    this.credentialsCache ??= deriveCredentials(this.account.password, { random: this.random, iterations: 4096 });
    return this.credentialsCache;
  }

  /** Apply one client action: concretize it with the model's client state, run it, answer host commands. */
  step(state: ModelState, action: ClientAction): ModelState {
    const { concrete, client } = concretize(action, state.client, { account: this.account, random: this.random, saltedPasswordCache: this.cache });
    return this.apply(state, client, modelEvent(concrete, action.type === 'wait' ? action.eventType : undefined));
  }

  /** Run one event, then the host's answers to what it asked, and let the client read the output. */
  apply(state: ModelState, clientBefore: ClientState, event: ReceivingEntityEvent): ModelState {
    const commands: Command[] = [];
    const fired: TransitionDef[] = [];
    let snapshot = state.machine;
    const queue: ReceivingEntityEvent[] = [event];
    while (queue.length > 0 && snapshot.status === 'active') {
      const ev = queue.shift()!;
      const r = this.collect(() => this.machine.transition(snapshot, ev, this.scope as never));
      snapshot = r.snapshot;
      commands.push(...r.commands);
      fired.push(...r.fired);
      for (const c of r.commands) {
        if (c.type === 'lookupCredentials') queue.push({ type: 'CREDENTIALS', username: c.username, credentials: this.credentials(c.username) });
        // An empty registry: the resource is free and the account has no other session (§7.7.2).
        if (c.type === 'queryResource') queue.push({ type: 'RESOURCE_STATUS', resource: c.resource, inUse: false, boundCount: 0 });
      }
    }
    let client = clientBefore;
    for (const c of commands) if (c.type === 'send') client = observeServerElement(client, c.element);
    return { machine: snapshot, client, commands, fired };
  }

  private collect(run: () => AnyMachineSnapshot): { snapshot: AnyMachineSnapshot; commands: Command[]; fired: TransitionDef[] } {
    this.sinkCommands = [];
    this.sinkFired = [];
    const snapshot = run();
    return { snapshot, commands: this.sinkCommands, fired: this.sinkFired };
  }
}

/**
 * What identifies a model state for the traversal: the machine's state value and the bounded
 * part of its context (flags and counters), plus what the client holds. Never the SASL
 * nonces, stream ids or stanzas: they are unbounded and do not change what can happen next.
 */
export function serializeModelState(s: ModelState): string {
  const c = s.machine.context as Record<string, unknown> & { saslStep?: { kind: string }; sasl?: { mechanism: string }; outcome?: { kind: string } };
  return JSON.stringify({
    v: s.machine.value,
    st: s.machine.status,
    sec: c['secured'],
    au: c['authenticated'],
    af: c['authFailures'],
    bf: c['bindFailures'],
    hs: c['headerSent'],
    b: c['boundJid'] !== undefined,
    p: c['pingId'] !== undefined,
    sm: c.sasl?.mechanism,
    out: c.outcome?.kind,
    cl: { m: s.client.sasl?.mechanism, ch: s.client.challenge !== undefined, pf: s.client.pendingFirst !== undefined, pi: s.client.pingId !== undefined },
  });
}

/** xstate/graph logic over client actions (events) and model states (context). */
export function modelLogic(model: Model) {
  return fromTransition((state: ModelState, action: ClientAction) => model.step(state, action), () => model.initial());
}

export type { ReceivingEntityInput };
