/**
 * One machine's diagram: the Mermaid SVG of docs/diagrams/ for the compound state the
 * machine is in (overview, negotiating, established), drawn at its own size in a scrolling
 * frame centred on the current state, so it reads at 100% zoom. The current state is
 * filled, the source of the transition just taken is outlined.
 */
import type { View } from '../data.js';
import { VIEWS } from '../data.js';

/** The Mermaid id of a state path (diagrams/mermaid.ts: `s_` and the sanitized keys joined by `__`). */
export function mermaidId(path: string): string {
  return `s_${path.split('.').map((k) => k.replace(/[^A-Za-z0-9_]/g, '_')).join('__')}`;
}

/** The diagram that shows a state: its depth-2 compound state's own diagram, else the overview. */
export function viewOf(path: string): View {
  const second = path.split('.')[1];
  return second !== undefined && (VIEWS as readonly string[]).includes(second) && path.startsWith('open.') ? (second as View) : 'overview';
}

export class DiagramPanel {
  private view: View | undefined;
  private nodes = new Map<string, SVGGElement>();

  constructor(
    private readonly frame: HTMLElement,
    private readonly svgs: Readonly<Record<string, string>>,
  ) {}

  /**
   * Show `active` (leaf state paths) with `from` (source paths of the transitions just
   * taken) marked; `pinned` keeps a chosen view instead of following the state.
   */
  show(active: readonly string[], from: readonly string[], pinned?: View): View {
    const view = pinned ?? viewOf(active[0] ?? '');
    if (view !== this.view) this.load(view);
    for (const n of this.nodes.values()) n.classList.remove('pg-active', 'pg-from');
    const mark = (path: string, cls: string): SVGGElement | undefined => {
      // A state folded away in this view is shown by its nearest drawn ancestor.
      for (let p = path; p !== ''; p = p.slice(0, Math.max(0, p.lastIndexOf('.')))) {
        const node = this.nodes.get(mermaidId(p));
        if (node) {
          node.classList.add(cls);
          return node;
        }
      }
      return undefined;
    };
    for (const p of from) mark(p, 'pg-from');
    const current = active.map((p) => mark(p, 'pg-active')).find((n) => n !== undefined);
    if (current) this.centre(current);
    return view;
  }

  private load(view: View): void {
    this.view = view;
    this.frame.innerHTML = this.svgs[view] ?? '';
    this.nodes.clear();
    for (const g of this.frame.querySelectorAll<SVGGElement>('g.node[id]')) {
      const m = /-state-(s_\w+?)-\d+$/.exec(g.id);
      if (m && !m[1]!.endsWith('_start') && !m[1]!.endsWith('_end')) this.nodes.set(m[1]!, g);
    }
    const svg = this.frame.querySelector('svg');
    if (svg) {
      // Natural size: Mermaid sets max-width to fit the page; here the frame scrolls instead.
      svg.style.maxWidth = 'none';
      svg.removeAttribute('height');
      svg.setAttribute('width', String(svg.viewBox.baseVal.width));
      svg.setAttribute('height', String(svg.viewBox.baseVal.height));
    }
  }

  private centre(node: SVGGElement): void {
    const box = node.getBoundingClientRect();
    const frame = this.frame.getBoundingClientRect();
    this.frame.scrollLeft += box.left + box.width / 2 - (frame.left + frame.width / 2);
    this.frame.scrollTop += box.top + box.height / 2 - (frame.top + frame.height / 2);
  }
}
