/**
 * The stream error element this machine sends (§4.9.2). Which transitions send each
 * condition is read from the machine itself (machines/introspect/triggers.ts).
 */
import { streamErrorElement, type StreamErrorCondition } from '../conditions.js';
import { NS } from '../ns.js';
import { el, type XmlElement } from '../xml.js';

/**
 * `<stream:error/>` for `condition` (§4.9.2). For `<see-other-host/>` the alternate host is
 * the XML character data of the condition element itself (§4.9.3.19: "MUST specify the
 * alternate FQDN or IP address"), not a `<text/>`; every other condition carries `text`
 * in `<text/>`.
 */
export function streamErrorElementFor(condition: StreamErrorCondition, text?: string): XmlElement {
  if (condition === 'see-other-host') {
    return el('error', NS.STREAMS, {}, el('see-other-host', NS.STREAM_ERRORS, {}, text ?? ''));
  }
  return streamErrorElement(condition, text);
}
