/**
 * Condition coverage: the error conditions a step's output carries. A transition reached
 * with different inputs can require different conditions (PARSE_ERROR alone leads to
 * not-well-formed, restricted-xml, bad-namespace-prefix or unsupported-encoding), so the
 * planner keeps one path per (transition, conditions) and the report counts conditions
 * exercised against those the model can produce from client input.
 */
import { conditionOf } from '../machines/conditions.js';
import { NS } from '../machines/ns.js';
import type { Command } from '../machines/protocol.js';
import { childElements, type XmlElement } from '../machines/xml.js';

/** 'stream restricted-xml' (§4.9.3), 'sasl not-authorized' (§6.5), 'stanza conflict' (§8.3.3). */
export function conditionsOfElement(e: XmlElement): string[] {
  if (e.name === 'error' && e.xmlns === NS.STREAMS) {
    const c = conditionOf(e, NS.STREAM_ERRORS);
    return c !== undefined ? [`stream ${c}`] : [];
  }
  if (e.name === 'failure' && e.xmlns === NS.SASL) {
    const c = conditionOf(e, NS.SASL);
    return c !== undefined ? [`sasl ${c}`] : [];
  }
  if (e.attrs.type === 'error') {
    const error = childElements(e).find((child) => child.name === 'error');
    const c = error !== undefined ? conditionOf(error, NS.STANZAS) : undefined;
    return c !== undefined ? [`stanza ${c}`] : [];
  }
  return [];
}

/** The conditions a model step's commands send, in order. */
export function outputConditions(commands: readonly Command[]): string[] {
  return commands.flatMap((c) => (c.type === 'send' ? conditionsOfElement(c.element) : []));
}
