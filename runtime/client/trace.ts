/**
 * One machine transition as a line for people: `[6120 §5.4.2.3] tlsNegotiation.requested --ELEMENT--> handshake`,
 * followed by `(also §x, §y)` when the transition implements more sections than its main one.
 * State ids lose the machine's outer path (initiatingEntity.open.negotiating...), which
 * every state shares; a target under the same parent as the source is shown by its own name.
 */
import type { TransitionTrace } from '../session/driver.js';

const OUTER = /^initiatingEntity\.(open\.(negotiating|established)\.|open\.)?/;

function short(id: string): string {
  const rest = id.replace(OUTER, '');
  return rest === '' ? id : rest;
}

function eventName(type: string): string {
  if (type === '') return 'always';
  // xstate.after.<delay>.<state id>: show the delay's name only.
  const after = /^xstate\.after\.([^.]+)\./.exec(type);
  return after ? `after ${after[1]}` : type;
}

export function formatTransition(t: TransitionTrace): string {
  const source = short(t.source);
  const parent = source.includes('.') ? source.slice(0, source.lastIndexOf('.') + 1) : '';
  const targets = t.targets.map((id) => {
    const s = short(id);
    return parent !== '' && s.startsWith(parent) && !s.slice(parent.length).includes('.') ? s.slice(parent.length) : s;
  });
  // meta.rfc lists the main section first, then the others the transition also implements
  // ('6120 §5.4.3.3, §5.3.2, §4.3.3'): the main one leads the line, the rest trail it.
  const [main, ...also] = (t.rfc ?? '-').split(',').map((s) => s.trim());
  const to = targets.length === 0 ? '(stays)' : targets.join(', ');
  const tail = also.length > 0 ? `  (also ${also.join(', ')})` : '';
  return `[${main}] ${source} --${eventName(t.event)}--> ${to}${tail}`;
}
