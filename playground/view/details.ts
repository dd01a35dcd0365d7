/**
 * The transitions of the last step: event, guard, actions and description from the
 * machine's definition, and each RFC section it cites, quoted from RFC 6120 with a link.
 */
import { citations, RFC6120 } from '../../machines/introspect/sections.js';
import type { RfcSection } from '../rfc-sections.js';
import type { TakenTransition } from '../run.js';
import type { TransitionIndex } from '../transitions.js';
import { h } from './dom.js';

export function sectionLink(doc: string, section: string): string {
  if (doc.startsWith('XEP-')) return `https://xmpp.org/extensions/${doc.toLowerCase()}.html`;
  return `https://www.rfc-editor.org/rfc/${doc.replace(/\s+/g, '').toLowerCase()}#section-${section}`;
}

export function renderTaken(taken: readonly TakenTransition[], index: Record<'client' | 'server', TransitionIndex>, sections: Readonly<Record<string, RfcSection>>): HTMLElement[] {
  if (taken.length === 0) return [h('p', { class: 'note' }, 'No machine transition in this step: bytes in flight, a host answer or a script timer.')];
  return taken.map(({ side, trace }) => {
    const ix = index[side];
    const defs = ix.definitions(trace);
    const source = ix.path(trace.source);
    const targets = trace.targets.map((t) => ix.path(t));
    const guard = [...new Set(defs.map((d) => d.guard).filter((g): g is string => g !== undefined))].join(' or ');
    const actions = [...new Set(defs.flatMap((d) => d.actions))];
    const description = defs.find((d) => d.description)?.description;
    const cited = citations(trace.rfc ?? '');
    return h(
      'div',
      { class: `taken ${side}`, 'data-side': side, 'data-event': trace.event },
      h('div', {}, h('strong', {}, side === 'client' ? 'client ' : 'server '), h('code', {}, `${source || '(machine)'} --${defs[0]?.event ?? trace.event}--> ${targets.join(', ') || '(stays)'}`)),
      h(
        'dl',
        {},
        h('dt', {}, 'event'),
        h('dd', {}, h('code', {}, trace.event || 'always')),
        h('dt', {}, 'guard'),
        h('dd', {}, h('code', { class: 'guard' }, guard || 'none')),
        h('dt', {}, 'actions'),
        h('dd', {}, h('code', { class: 'actions' }, actions.join(', ') || 'none')),
        description ? h('dt', {}, 'why') : null,
        description ? h('dd', {}, description) : null,
        h('dt', {}, 'cites'),
        h('dd', { class: 'rfc' }, trace.rfc ? `RFC ${trace.rfc}` : 'nothing'),
      ),
      ...cited.flatMap((c) => {
        const quoted = c.doc === RFC6120 ? sections[c.section] : undefined;
        const name = `${c.doc} §${c.section}${quoted ? ` ${quoted.title}` : ''}`;
        return [
          h('div', {}, h('a', { href: sectionLink(c.doc, c.section), target: '_blank', rel: 'noopener noreferrer' }, name)),
          quoted ? h('blockquote', { 'data-section': c.section }, quoted.text) : null,
        ];
      }),
    );
  });
}
