/**
 * From a transition the driver reports (source, event, targets, RFC) to its definition in
 * the machine: guard, actions and description, as the documentation shows them. Within one
 * state, event, target set and citation pick out a single definition, except where two
 * guarded alternatives share all four: then every candidate is returned.
 */
import type { AnyStateMachine } from 'xstate';
import { describeMachine, type MachineModel, type TransitionInfo } from '../machines/introspect/model.js';
import type { TransitionTrace } from '../runtime/session/driver.js';

export class TransitionIndex {
  readonly model: MachineModel;
  private readonly byKey = new Map<string, TransitionInfo[]>();

  constructor(readonly machine: AnyStateMachine) {
    this.model = describeMachine(machine);
    for (const t of this.model.transitions) {
      const key = keyOf(t.source, t.eventType, t.targets, t.rfc);
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), t]);
    }
  }

  /** A state id ('receivingEntity.open.negotiating') as a model path ('open.negotiating'). */
  path(id: string): string {
    return id === this.machine.id ? '' : id.slice(this.machine.id.length + 1);
  }

  definitions(t: TransitionTrace): readonly TransitionInfo[] {
    return this.byKey.get(keyOf(this.path(t.source), t.event, t.targets.map((id) => this.path(id)), t.rfc)) ?? [];
  }
}

function keyOf(source: string, event: string, targets: readonly string[], rfc: string | undefined): string {
  return `${source}\n${event}\n${targets.join(',')}\n${rfc ?? ''}`;
}
