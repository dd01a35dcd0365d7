/**
 * The wire as a sequence: each segment that crossed the link, client's on the left,
 * server's on the right, pretty-printed; a click shows its raw bytes (text and hex).
 */
import type { Segment } from '../../sim/link.js';
import { h } from './dom.js';
import { hexOf, prettyXml } from './xml.js';

export interface WireRow {
  readonly segment: Segment;
  readonly index: number;
  readonly injected: boolean;
  /** The bytes themselves when they are not the UTF-8 of the text (raw garbage). */
  readonly bytes?: Uint8Array;
  readonly latest: boolean;
}

export function renderWire(rows: readonly WireRow[]): HTMLElement[] {
  return rows.map((r) => {
    const side = r.segment.from === 'a' ? 'client' : 'server';
    const raw = h('pre', { class: 'raw', id: `raw-${r.index}`, hidden: true });
    const button = h(
      'button',
      { type: 'button', class: 'xml', 'aria-expanded': 'false', 'aria-controls': `raw-${r.index}`, 'data-index': String(r.index) },
      h('span', { class: 'who' }, `${side === 'client' ? 'C → S' : 'S → C'}${r.segment.encrypted ? ' [TLS]' : ''}${r.injected ? ' [injected fault]' : ''}\n`),
      prettyXml(r.segment.text),
    );
    button.addEventListener('click', () => {
      const open = raw.hidden;
      raw.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      if (open && raw.childNodes.length === 0) {
        const bytes = r.bytes ?? new TextEncoder().encode(r.segment.text);
        raw.append(`${bytes.length} bytes: ${JSON.stringify(r.segment.text)}\n\n${hexOf(bytes)}`);
      }
    });
    return h('div', { class: `seg ${side}${r.injected ? ' injected' : ''}${r.latest ? ' latest' : ''}` }, h('span', { class: 'at' }, `${r.segment.at} ms`), button, raw);
  });
}
