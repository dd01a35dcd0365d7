/**
 * The test model for clients: the initiating-entity machine (machines/initiating/) driven by
 * the server's alphabet (./actions.ts). Pure, like ../model.ts: every step is
 * `machine.transition` on an immutable snapshot; timers are explicit `xstate.after.*` events.
 *
 * The same step function is the oracle while a path is played against a client: it says
 * what the initiating entity must write after each server action. The application's own
 * events (SEND a stanza, CLOSE the session) are host events: the runner feeds them when the
 * client's output shows them (./run.ts).
 */
import { createActor, fromTransition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { initiatingEntityMachine, type InitiatingEntityEvent, type InitiatingEntityMachineInput } from '../../machines/initiating/index.js';
import type { Command } from '../../machines/protocol.js';
import { deriveCredentials, type StoredCredentials } from '../../machines/sasl/index.js';
import type { TransitionDef } from '../model.js';
import { concretize, observeClientElement, type ClientAccount, type ServerAction, type ServerConcrete, type ServerState } from './actions.js';

/** The client's policy the model runs with (the client's configuration, where the RFC leaves a choice). */
export type ClientModelPolicy = Omit<InitiatingEntityMachineInput, 'random' | 'jid' | 'password'>;

export interface ClientModelState {
  readonly machine: AnyMachineSnapshot;
  readonly server: ServerState;
  /** Commands the last step made the machine emit, in order. */
  readonly commands: readonly Command[];
  /** Transitions the last step took, in order. */
  readonly fired: readonly TransitionDef[];
}

export interface ClientModelOptions {
  readonly account: ClientAccount;
  readonly policy: ClientModelPolicy;
  readonly random: (n: number) => Uint8Array;
}

/** The events one concrete piece of a server action produces at the client's XML layer. */
export function clientModelEvents(part: ServerConcrete, waitEventType?: string): InitiatingEntityEvent[] {
  switch (part.kind) {
    case 'header':
      return [{ type: 'HEADER', header: part.header }];
    case 'element':
      return [{ type: 'ELEMENT', element: part.element }];
    case 'raw':
      return part.text === '</stream:stream>' ? [{ type: 'STREAM_CLOSE' }] : [{ type: 'KEEPALIVE' }];
    case 'malformed':
      return [{ type: 'PARSE_ERROR', condition: 'not-well-formed' }];
    case 'tls':
      return part.certificate === 'trusted' ? [{ type: 'TLS_ESTABLISHED' }] : [{ type: 'TLS_FAILED', reason: 'certificate not trusted' }];
    case 'end':
      return [{ type: 'SOCKET_CLOSED' }];
    case 'wait':
      return [{ type: waitEventType ?? `xstate.after.${part.delay}` } as unknown as InitiatingEntityEvent];
  }
}

export class ClientModel {
  readonly machine: AnyStateMachine = initiatingEntityMachine;
  readonly input: InitiatingEntityMachineInput;
  readonly account: ClientAccount;
  private readonly random: (n: number) => Uint8Array;
  private credentialsCache: StoredCredentials | undefined;
  private sinkCommands: Command[] = [];
  private sinkFired: TransitionDef[] = [];
  private readonly scope: unknown;

  constructor(opts: ClientModelOptions) {
    this.account = opts.account;
    this.random = opts.random;
    this.input = { ...opts.policy, jid: `${opts.account.user}@${opts.account.domain}`, password: opts.account.password, random: opts.random };
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
      actionExecutor: (a: { type: string; exec?: (info: unknown, params: unknown) => void; info: unknown; params: unknown }) => {
        if (a.type === 'xstate.emit') a.exec?.(a.info, a.params);
      },
    };
  }

  /** The server's stored keys for the account (SCRAM, iteration count 4096). */
  credentials(): StoredCredentials {
    this.credentialsCache ??= deriveCredentials(this.account.password, { random: this.random, iterations: 4096 });
    return this.credentialsCache;
  }

  initial(): ClientModelState {
    const r = this.collect(() => this.machine.getInitialSnapshot(this.scope as never, this.input));
    return this.observe({ machine: r.snapshot, server: {}, commands: r.commands, fired: r.fired });
  }

  /** Apply one server action: concretize it with the model's server state, run its events. */
  step(state: ClientModelState, action: ServerAction): ClientModelState {
    const { parts, server } = concretize(action, state.server, { account: this.account, random: this.random, credentials: () => this.credentials() });
    const events = parts.flatMap((p) => clientModelEvents(p, action.type === 'wait' ? action.eventType : undefined));
    return this.apply({ ...state, server }, events);
  }

  /** Run events in order (an application event, or a server action's), then let the server read the output. */
  apply(state: ClientModelState, events: readonly InitiatingEntityEvent[]): ClientModelState {
    const commands: Command[] = [];
    const fired: TransitionDef[] = [];
    let snapshot = state.machine;
    for (const ev of events) {
      if (snapshot.status !== 'active') break;
      const r = this.collect(() => this.machine.transition(snapshot, ev, this.scope as never));
      snapshot = r.snapshot;
      commands.push(...r.commands);
      fired.push(...r.fired);
    }
    return this.observe({ machine: snapshot, server: state.server, commands, fired });
  }

  private observe(s: ClientModelState): ClientModelState {
    let server = s.server;
    for (const c of s.commands) if (c.type === 'send') server = observeClientElement(server, c.element);
    return { ...s, server };
  }

  private collect(run: () => AnyMachineSnapshot): { snapshot: AnyMachineSnapshot; commands: Command[]; fired: TransitionDef[] } {
    this.sinkCommands = [];
    this.sinkFired = [];
    const snapshot = run();
    return { snapshot, commands: this.sinkCommands, fired: this.sinkFired };
  }
}

/** The bounded part of a model state: state value, flags, what the server holds (never nonces or ids). */
export function serializeClientModelState(s: ClientModelState): string {
  const c = s.machine.context as Record<string, unknown>;
  return JSON.stringify({
    v: s.machine.value,
    st: s.machine.status,
    sec: c['secured'],
    au: c['authenticated'],
    so: c['streamOpen'],
    m: c['mechanism'],
    br: c['bindRetried'],
    b: c['boundJid'] !== undefined,
    p: c['pingId'] !== undefined,
    out: (c['outcome'] as { kind?: string } | undefined)?.kind,
    sv: { in: s.server.saslIn !== undefined, sa: s.server.sasl !== undefined, bi: s.server.bindId !== undefined, pi: s.server.pingId !== undefined, tl: s.server.tlsStarting === true },
  });
}

export function clientModelLogic(model: ClientModel) {
  return fromTransition((state: ClientModelState, action: ServerAction) => model.step(state, action), () => model.initial());
}
