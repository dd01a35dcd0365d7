/**
 * The machines that get documented: one diagram set, one column of the conformance report
 * and one section of the page each. Imported lazily so that the generator (and `xmppkit
 * --help`) load nothing until asked.
 */
import type { AnyStateMachine } from 'xstate';
import { DEFAULT_TIMEOUTS } from '../policy.js';
import { DEFAULT_ROUTE_TIMEOUTS } from '../s2s/route/policy.js';
import type { DescribeOptions } from './model.js';

/**
 * How documented machines are described: named delays show their default from machines/policy.ts
 * (and the outgoing route's, machines/s2s/route/policy.ts, whose keys are its own).
 */
export const DESCRIBE_OPTIONS: DescribeOptions = { timeouts: { ...DEFAULT_TIMEOUTS, ...DEFAULT_ROUTE_TIMEOUTS } };

/** Which end of the stream a machine plays: RFC 6120 roles C (client) and S (server) in §15. */
export type Role = 'client' | 'server';

export interface MachineEntry {
  /** File name stem: docs/diagrams/<name>.mmd */
  readonly name: string;
  readonly title: string;
  readonly role: Role;
  /** Module (relative to this file) and export that hold the machine. */
  readonly module: string;
  readonly exportName: string;
  /**
   * The document the machine models, when not RFC 6120: such a machine is drawn and shown on
   * the page, but the RFC 6120 conformance report (§15 roles) does not list it.
   */
  readonly spec?: string;
}

export interface LoadedMachine extends MachineEntry {
  readonly machine: AnyStateMachine;
}

export const MACHINES: readonly MachineEntry[] = [
  {
    name: 'receiving-entity',
    title: 'Receiving entity (server), RFC 6120',
    role: 'server',
    module: '../receiving/index.js',
    exportName: 'receivingEntityMachine',
  },
  {
    name: 'initiating-entity',
    title: 'Initiating entity (client), RFC 6120',
    role: 'client',
    module: '../initiating/index.js',
    exportName: 'initiatingEntityMachine',
  },
  {
    name: 'receiving-server',
    title: 'Receiving server (server-to-server), RFC 6120',
    role: 'server',
    module: '../s2s/receiving/index.js',
    exportName: 'receivingServerMachine',
  },
  {
    name: 'initiating-server',
    title: 'Initiating server (server-to-server), RFC 6120',
    role: 'server',
    module: '../s2s/initiating/index.js',
    exportName: 'initiatingServerMachine',
  },
  {
    name: 'client-connection',
    title: 'Client connection lifecycle (reconnection, redirects, pre-online queue), RFC 6120 §3.3',
    role: 'client',
    module: '../connection/index.js',
    exportName: 'clientConnectionMachine',
  },
  {
    name: 's2s-route',
    title: 'Outgoing route to a remote domain (queue, flush, bounce, back-off), RFC 6120 §10.4',
    role: 'server',
    module: '../s2s/route/index.js',
    exportName: 's2sRouteMachine',
  },
  {
    name: 'subscription',
    title: 'Presence subscription (user\'s server, one contact), RFC 6121',
    role: 'server',
    module: '../subscription/index.js',
    exportName: 'subscriptionMachine',
    spec: 'RFC 6121',
  },
];

export async function loadMachine(entry: MachineEntry): Promise<LoadedMachine> {
  // A specifier in a variable: each machine module loads only when it is documented.
  const specifier: string = entry.module;
  const mod = (await import(specifier)) as Record<string, unknown>;
  const machine = mod[entry.exportName];
  if (!isMachine(machine)) throw new Error(`${entry.module} does not export a state machine '${entry.exportName}'`);
  return { ...entry, machine };
}

export async function loadMachines(entries: readonly MachineEntry[] = MACHINES): Promise<LoadedMachine[]> {
  return Promise.all(entries.map(loadMachine));
}

function isMachine(x: unknown): x is AnyStateMachine {
  return typeof x === 'object' && x !== null && 'root' in x && 'id' in x && typeof (x as { transition?: unknown }).transition === 'function';
}
