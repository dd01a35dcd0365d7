/**
 * Coverage of a machine definition: which state nodes and transitions the simulated runs
 * visited, against all of them found by walking `machine.root`. A transition is keyed by
 * source state, event, targets and its `meta.rfc` (what SessionDriver's inspector reports),
 * so two definitions that agree on all four count as one.
 */
import type { AnyStateMachine } from 'xstate';
import type { TransitionTrace } from '../runtime/session/driver.js';

interface NodeLike {
  readonly id: string;
  readonly type: string;
  readonly initial?: { readonly target: readonly NodeLike[] } | undefined;
  readonly states: Record<string, NodeLike>;
  readonly transitions: Map<string, readonly TransitionLike[]>;
  readonly always?: readonly TransitionLike[] | undefined;
}
interface TransitionLike {
  readonly eventType: string;
  readonly source: { readonly id: string };
  readonly target?: readonly { readonly id: string }[] | undefined;
  readonly meta?: unknown;
}

export function transitionKey(t: { source: string; event: string; targets: readonly string[]; rfc?: string | undefined }): string {
  return `${t.source} --${t.event}--> ${t.targets.join(',') || '(internal)'} [${t.rfc ?? ''}]`;
}

function keyOf(t: TransitionLike): string {
  return transitionKey({
    source: t.source.id,
    event: t.eventType,
    targets: (t.target ?? []).map((n) => n.id),
    rfc: (t.meta as { rfc?: string } | undefined)?.rfc,
  });
}

/** The shape of a machine: every state id and transition key, and what entering a state enters. */
export class MachineShape {
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();
  private readonly byId = new Map<string, NodeLike>();
  private readonly activatedBy = new Map<string, readonly string[]>();
  readonly initialConfiguration: string[];

  constructor(readonly machine: AnyStateMachine) {
    const walk = (node: NodeLike): void => {
      this.states.add(node.id);
      this.byId.set(node.id, node);
      for (const list of node.transitions.values()) for (const t of list) this.transitions.add(keyOf(t));
      for (const t of node.always ?? []) this.transitions.add(keyOf(t));
      for (const child of Object.values(node.states)) walk(child);
    };
    const root = machine.root as unknown as NodeLike;
    walk(root);
    this.initialConfiguration = this.entered(root.id);
  }

  /** A state and the descendants entering it enters (initial children; every region of a parallel state). */
  entered(id: string): string[] {
    const node = this.byId.get(id);
    if (!node) return [];
    const out = [id];
    if (node.type === 'parallel') for (const c of Object.values(node.states)) out.push(...this.entered(c.id));
    else if (node.initial) for (const t of node.initial.target) out.push(...this.entered(t.id));
    return out;
  }

  /** What a transition to `id` makes active: what entering it enters, and its ancestors (computed once per id). */
  activated(id: string): readonly string[] {
    let out = this.activatedBy.get(id);
    if (out === undefined) {
      const states = this.entered(id);
      // Ids are dotted paths from the root.
      for (let cut = id.lastIndexOf('.'); cut > 0; cut = id.lastIndexOf('.', cut - 1)) {
        const ancestor = id.slice(0, cut);
        if (this.states.has(ancestor)) states.push(ancestor);
      }
      this.activatedBy.set(id, (out = states));
    }
    return out;
  }
}

/** Visited states and transitions of one machine across runs. */
export class Coverage {
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();
  readonly shape: MachineShape;

  constructor(machine: AnyStateMachine) {
    this.shape = new MachineShape(machine);
  }

  /** A session started: its initial configuration is visited. */
  started(): void {
    for (const s of this.shape.initialConfiguration) this.states.add(s);
  }

  record(t: TransitionTrace): void {
    this.transitions.add(transitionKey(t));
    for (const target of t.targets) for (const s of this.shape.activated(target)) this.states.add(s);
  }

  summary(): { states: [number, number]; transitions: [number, number]; missedStates: string[]; missedTransitions: string[] } {
    const missedStates = [...this.shape.states].filter((s) => !this.states.has(s)).sort();
    const missedTransitions = [...this.shape.transitions].filter((t) => !this.transitions.has(t)).sort();
    const visitedStates = [...this.states].filter((s) => this.shape.states.has(s)).length;
    const visitedTransitions = [...this.transitions].filter((t) => this.shape.transitions.has(t)).length;
    return {
      states: [visitedStates, this.shape.states.size],
      transitions: [visitedTransitions, this.shape.transitions.size],
      missedStates,
      missedTransitions,
    };
  }
}
