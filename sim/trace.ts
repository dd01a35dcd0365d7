/**
 * Traces of a run: JSON (the scenario, which replays the run exactly, plus what crossed
 * each link and what the host saw) and a Mermaid sequenceDiagram of the exchanged
 * elements, for humans.
 */
import type { Violation } from './invariants.js';
import type { Scenario } from './scenario.js';
import type { World } from './world.js';

export interface TraceFile {
  readonly format: 'xmpp-statekit-sim-trace/1';
  readonly scenario: Scenario;
  /** fast-check seed and shrink path of the property run that found it (when it came from one). */
  readonly seed?: number;
  readonly path?: string;
  readonly violations: readonly Violation[];
  readonly segments: readonly { readonly link: number; readonly from: 'client' | 'server'; readonly at: number; readonly encrypted: boolean; readonly text: string }[];
  readonly host: readonly { readonly session: number; readonly at: number; readonly type: string; readonly detail?: string }[];
}

export function traceOf(world: World, violations: readonly Violation[], origin: { seed?: number; path?: string } = {}): TraceFile {
  const segments = world.links.flatMap((link, i) =>
    link.segments.map((s) => ({ link: i, from: s.from === 'a' ? ('client' as const) : ('server' as const), at: s.at, encrypted: s.encrypted, text: s.text })),
  );
  segments.sort((x, y) => x.at - y.at || x.link - y.link);
  const host = world.host.sessions.flatMap((s) =>
    s.events.map((e) => ({
      session: s.index,
      at: e.at,
      type: e.type,
      ...(e.type === 'bound' ? { detail: e.jid } : {}),
      ...(e.type === 'ended' ? { detail: `${e.outcome.kind}${e.outcome.condition ? ` ${e.outcome.condition}` : ''} (${e.outcome.rfc})` } : {}),
      ...(e.type === 'deliver' || e.type === 'routeIn' ? { detail: `<${e.stanza.name} id='${e.stanza.attrs['id'] ?? ''}'>` } : {}),
    })),
  );
  return { format: 'xmpp-statekit-sim-trace/1', scenario: world.scenario, ...origin, violations, segments, host };
}

/** A short label for one written chunk: its first element(s), attributes that matter, conditions. */
export function label(text: string): string {
  if (text === '</stream:stream>') return '</stream:stream>';
  if (/^\s+$/.test(text)) return '(whitespace keepalive)';
  const tags = [...text.matchAll(/<([\w:.-]+)([^>]*)>/g)].slice(0, 3).map(([, name, attrs]) => {
    const type = /\btype='([^']*)'/.exec(attrs ?? '')?.[1];
    const mech = /\bmechanism='([^']*)'/.exec(attrs ?? '')?.[1];
    return `${name}${type ? `(${type})` : ''}${mech ? `(${mech})` : ''}`;
  });
  const out = tags.length > 0 ? tags.join(' ') : JSON.stringify(text.slice(0, 24));
  // Mermaid message text: no semicolons, '#' or line breaks.
  return out.replace(/[;#\n\r]/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}

export function mermaidOf(trace: TraceFile): string {
  const lines = ['sequenceDiagram'];
  const links = [...new Set(trace.segments.map((s) => s.link))].sort((a, b) => a - b);
  for (const l of links) lines.push(`  participant C${l} as client ${l}`);
  lines.push('  participant S as server');
  for (const s of trace.segments) {
    const lock = s.encrypted ? ' [TLS]' : '';
    lines.push(s.from === 'client' ? `  C${s.link}->>S: ${s.at} ${label(s.text)}${lock}` : `  S->>C${s.link}: ${s.at} ${label(s.text)}${lock}`);
  }
  for (const v of trace.violations) lines.push(`  Note over S: VIOLATION ${v.invariant} (${v.rfc}) session ${v.session}`);
  return `${lines.join('\n')}\n`;
}
