/**
 * Mermaid `stateDiagram-v2` text from a machine definition.
 *
 * - compound states become composite states, parallel regions are separated by `--`;
 * - `[*] -->` marks each initial state, `--> [*]` each final one;
 * - one edge per transition and target, labelled `EVENT [guard] (§x.y)`; a targetless
 *   transition is a self-loop; delays read `after idleTimeout` (the delay's name, which is
 *   configuration, not a number);
 * - output depends only on the machine's definition order, so it can be committed and diffed.
 *
 * A dense machine reads better as an overview (`depth: 1`: deeper states are folded into
 * their top-level ancestor, transitions inside a folded state are left out) plus one
 * diagram per compound state (`focus`: that state's subtree, with the states it leaves
 * to and is entered from drawn as dashed stubs).
 */
import type { AnyStateMachine } from 'xstate';
import { describeMachine, type MachineModel, type StateInfo, type TransitionInfo } from '../machines/introspect/model.js';

export interface MermaidOptions {
  /** Draw only this state's subtree (a dotted path); default: the whole machine. */
  readonly focus?: string;
  /** Levels of states shown below the focus (or below the root); deeper ones are folded. */
  readonly depth?: number;
  /** Diagram title (Mermaid front matter). */
  readonly title?: string;
  /** One edge per pair of states, its label listing every transition on a line of its own. */
  readonly merge?: boolean;
  /** Layout engine named in the front matter; ELK routes edges around composite states far better than dagre. */
  readonly layout?: 'elk' | 'dagre';
}

/** Pseudo-state for transitions declared on the machine root: they apply in any state. */
const ANY = '(any state)';

export function toMermaid(machine: AnyStateMachine | MachineModel, opts: MermaidOptions = {}): string {
  const model = 'states' in machine && Array.isArray(machine.states) ? (machine as MachineModel) : describeMachine(machine as AnyStateMachine);
  return new Diagram(model, opts).render();
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** Path of the composite state whose block declares the edge ('' = top level). */
  readonly scope: string;
}

class Diagram {
  private readonly byPath = new Map<string, StateInfo>();
  private readonly children = new Map<string, StateInfo[]>();
  private readonly ids = new Map<string, string>();
  private readonly usedIds = new Set<string>();
  private readonly stubs = new Map<string, string>(); // external path → label
  private readonly focus: string;
  private readonly maxDepth: number;

  constructor(
    private readonly model: MachineModel,
    private readonly opts: MermaidOptions,
  ) {
    for (const s of model.states) {
      this.byPath.set(s.path, s);
      const list = this.children.get(s.parent) ?? [];
      list.push(s);
      this.children.set(s.parent, list);
    }
    this.focus = opts.focus ?? '';
    if (this.focus !== '' && !this.byPath.has(this.focus)) throw new Error(`toMermaid: no state '${this.focus}' in ${model.id}`);
    this.maxDepth = opts.depth ?? Infinity;
  }

  render(): string {
    const edges = this.edges();
    const lines: string[] = [];
    const front: string[] = [];
    if (this.opts.title !== undefined) front.push(`title: ${JSON.stringify(this.opts.title)}`);
    if (this.opts.layout !== undefined) front.push('config:', `  layout: ${this.opts.layout}`);
    if (front.length > 0) lines.push('---', ...front, '---');
    lines.push('stateDiagram-v2');
    const top = this.focus === '' ? (this.children.get('') ?? []) : [this.byPath.get(this.focus)!];
    if (this.focus === '' && this.model.initial !== undefined) lines.push(`  [*] --> ${this.id(this.model.initial)}`);
    this.block(top, '', edges, 1, lines);
    for (const [path, label] of this.stubs) lines.push(`  state "${quote(label)}" as ${this.stubId(path)}`);
    if (this.stubs.size > 0) {
      lines.push('  classDef external fill:#f6f6f6,stroke:#999,stroke-dasharray:4 4,color:#555');
      lines.push(`  class ${[...this.stubs.keys()].map((p) => this.stubId(p)).join(',')} external`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** Declares `states` (siblings) and the edges scoped to `scope`, recursing into expanded composites. */
  private block(states: readonly StateInfo[], scope: string, edges: readonly Edge[], indent: number, out: string[]): void {
    const pad = '  '.repeat(indent);
    for (const s of states) {
      const id = this.id(s.path);
      out.push(`${pad}state "${quote(s.type === 'history' ? `${s.key} (history)` : s.key)}" as ${id}`);
      const kids = this.expanded(s) ? (this.children.get(s.path) ?? []) : [];
      if (kids.length > 0) {
        out.push(`${pad}state ${id} {`);
        if (s.type === 'parallel') {
          // Each region is a compound state of its own; `--` separates the regions.
          kids.forEach((region, i) => {
            if (i > 0) out.push(`${pad}  --`);
            this.block([region], s.path, edges, indent + 1, out);
          });
        } else {
          if (s.initial !== undefined) out.push(`${pad}  [*] --> ${this.id(`${s.path}.${s.initial}`)}`);
          this.block(kids, s.path, edges, indent + 1, out);
        }
        out.push(`${pad}}`);
      } else if (s.rfc !== undefined) {
        out.push(`${pad}${id} : ${quoteLabel(shortRfc(s.rfc))}`);
      }
      // Invoked actors run while the state is active; their done/error events label the edges that leave it.
      if (kids.length === 0 && s.invokes !== undefined) out.push(`${pad}${id} : ${quoteLabel(`invoke ${s.invokes.join(', ')}`)}`);
      if (s.type === 'final') out.push(`${pad}${id} --> [*]`);
    }
    for (const e of edges) if (e.scope === scope) out.push(`${pad}${e.from} --> ${e.to} : ${quoteLabel(e.label)}`);
  }

  private expanded(s: StateInfo): boolean {
    return this.relDepth(s.path) < this.maxDepth;
  }

  /** Levels below the focus: the focus is 0, its children 1; without focus top-level states are 1. */
  private relDepth(path: string): number {
    const d = path.split('.').length;
    return this.focus === '' ? d : d - this.focus.split('.').length;
  }

  private inFocus(path: string): boolean {
    return this.focus === '' || path === this.focus || path.startsWith(`${this.focus}.`);
  }

  /** The state drawn for `path`: itself, or its nearest ancestor that is drawn. */
  private shown(path: string): string {
    let p = path;
    while (this.relDepth(p) > this.maxDepth && p.includes('.')) p = p.slice(0, p.lastIndexOf('.'));
    return p;
  }

  private edges(): Edge[] {
    const out: Edge[] = [];
    const seen = new Map<string, number>();
    const push = (from: string, to: string, label: string, scope: string): void => {
      const pair = `${from}\u0000${to}`;
      const key = `${pair}\u0000${label}`;
      if (seen.has(key)) return;
      seen.set(key, out.length);
      const merged = this.opts.merge ? seen.get(pair) : undefined;
      if (merged !== undefined) {
        const e = out[merged]!;
        out[merged] = { ...e, label: `${e.label}<br/>${label}` };
        return;
      }
      if (this.opts.merge) seen.set(pair, out.length);
      out.push({ from, to, label, scope });
    };
    for (const t of this.model.transitions) {
      const label = edgeLabel(t);
      const srcIn = t.source !== '' && this.inFocus(t.source);
      if (t.source === '' && this.focus !== '') continue; // root transitions belong to the overview
      if (srcIn || t.source === '') {
        const from = t.source === '' ? '' : this.shown(t.source);
        const folded = from !== t.source;
        const targets = t.targets.length === 0 ? [t.source] : t.targets;
        for (const target of targets) {
          if (target === '') continue;
          const toIn = this.inFocus(target);
          const to = toIn ? this.shown(target) : target;
          if (folded && toIn && to === from) continue; // a move inside a folded state
          const fromId = from === '' ? this.stub('') : this.id(from);
          const toId = toIn ? this.id(to) : this.stub(target);
          push(fromId, toId, label, toIn && from !== '' ? this.scopeOf(from, to) : '');
        }
      } else {
        // Entered from outside the focused subtree: draw the source as a stub.
        for (const target of t.targets) {
          if (!this.inFocus(target)) continue;
          push(this.stub(t.source), this.id(this.shown(target)), label, '');
        }
      }
    }
    return out;
  }

  /**
   * The block that declares an edge. Mermaid moves a state into the block where an edge
   * names it, so an edge goes inside a composite only when both ends are its direct
   * children; every other edge is declared at the top level, which leaves states in place.
   */
  private scopeOf(a: string, b: string): string {
    const parentA = this.byPath.get(a)?.parent ?? '';
    const parentB = this.byPath.get(b)?.parent ?? '';
    if (parentA !== parentB || !this.inFocus(parentA)) return '';
    // Concurrent regions are separated by `--`; nothing is declared directly in a parallel state.
    if (this.byPath.get(parentA)?.type === 'parallel') return '';
    return parentA;
  }

  private id(path: string): string {
    return this.uniqueId(path, `s_${path.split('.').map(sanitize).join('__')}`);
  }

  private stub(path: string): string {
    if (!this.stubs.has(path)) this.stubs.set(path, path === '' ? ANY : `↗ ${path}`);
    return this.stubId(path);
  }

  private stubId(path: string): string {
    return this.uniqueId(`\u0000${path}`, path === '' ? 'x_any' : `x_${path.split('.').map(sanitize).join('__')}`);
  }

  private uniqueId(key: string, base: string): string {
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    let id = base;
    for (let n = 2; this.usedIds.has(id); n++) id = `${base}_${n}`;
    this.ids.set(key, id);
    this.usedIds.add(id);
    return id;
  }
}

/** `EVENT [guard] (§x.y)`. */
export function edgeLabel(t: TransitionInfo): string {
  let label = t.event;
  if (t.guard !== undefined) label += ` [${t.guard}]`;
  if (t.rfc !== undefined) label += ` (${shortRfc(t.rfc)})`;
  return label;
}

/** '6120 §4.4' → '§4.4': RFC 6120 is the document every diagram is about. */
export function shortRfc(rfc: string): string {
  return compactRuns(rfc.replace(/^\s*(RFC\s*)?6120\s*/, ''));
}

/**
 * '§6.5.1, §6.5.2, §6.5.3, §6.5.4' → '§6.5.1–4': three or more consecutive sibling sections in
 * a comma-separated list become a range, so long citations stay readable on an edge.
 */
export function compactRuns(list: string): string {
  const items = list.split(/,\s*/);
  const parse = (x: string): { parent: string; n: number } | undefined => {
    const m = /^§(\d+(?:\.\d+)*)\.(\d+)$/.exec(x.trim());
    return m ? { parent: m[1]!, n: Number(m[2]) } : undefined;
  };
  const out: string[] = [];
  for (let i = 0; i < items.length; ) {
    const first = parse(items[i]!);
    let j = i + 1;
    if (first) {
      while (j < items.length) {
        const next = parse(items[j]!);
        if (!next || next.parent !== first.parent || next.n !== first.n + (j - i)) break;
        j++;
      }
    }
    if (first && j - i >= 3) {
      out.push(`${items[i]!.trim()}–${first.n + (j - i - 1)}`);
      i = j;
    } else {
      out.push(items[i]!.trim());
      i++;
    }
  }
  return out.join(', ');
}

function sanitize(segment: string): string {
  return segment.replace(/[^A-Za-z0-9_]/g, '_');
}

function quote(s: string): string {
  return s.replace(/"/g, "'");
}

/** Characters Mermaid reads as syntax inside a label (`;` ends a statement, `#` starts an entity). */
function quoteLabel(s: string): string {
  return s.replace(/;/g, ',').replace(/#/g, '').replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')).replace(/\n/g, ' ');
}
