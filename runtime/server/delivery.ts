/** What routing decides: write `stanza` to the session bound to the full JID `to` (RFC 6120 §10). */
import type { XmlElement } from '../../machines/xml.js';

export interface Delivery {
  readonly to: string;
  readonly stanza: XmlElement;
}
