/**
 * The XML declaration at the start of a stream (XML 1.0 section 2.8; RFC 6120 §11.5,
 * §11.6), read as it arrives, after `<?xml` and the character that followed it:
 * `version`, then optionally `encoding` and `standalone`, each `name = 'value'`, separated
 * by whitespace, up to '?>'. Each name and value is judged when it ends; encoding and
 * standalone when the declaration does. The stream parser hands it one chunk at a time.
 */
import type { StreamErrorCondition } from '../../machines/conditions.js';
import { isSpace } from './chars.js';

export type DeclarationStep =
  /** All the text given was read; the declaration goes on. */
  | { readonly kind: 'more' }
  /** The declaration ended; the stream goes on at `next`. */
  | { readonly kind: 'done'; readonly next: number }
  | { readonly kind: 'error'; readonly condition: StreamErrorCondition; readonly text: string };

// Where the reading is.
const NAME_START = 0;
const NAME = 1;
const EQ = 2;
const VALUE_START = 3;
const VALUE = 4;
const SEPARATOR = 5;
const ENDING = 6; // after '?'

/** The names that may follow the last one read ('' before any). */
const NEXT: Readonly<Record<string, readonly string[]>> = { '': ['version'], version: ['encoding', 'standalone'], encoding: ['standalone'], standalone: [] };
const VALID = { version: /^1\.[0-9]+$/, encoding: /^[A-Za-z][A-Za-z0-9._-]*$/, standalone: /^(?:yes|no)$/ } as const;

const MORE: DeclarationStep = { kind: 'more' };
const wrong = (text: string): DeclarationStep => ({ kind: 'error', condition: 'not-well-formed', text });
const INCOMPLETE = wrong('an incomplete XML declaration');

export class XmlDeclarationReader {
  private state: number;
  private name = '';
  private value = '';
  private quote = 0;
  /** The last name whose value was read ('' before any). */
  private last = '';
  private encoding: string | undefined;
  private standalone: string | undefined;

  /** `closing`: `<?xml` was directly followed by '?'. */
  constructor(closing: boolean) {
    this.state = closing ? ENDING : NAME_START;
  }

  read(text: string, i: number, end: number): DeclarationStep {
    while (i < end) {
      const c = text.charCodeAt(i);
      if ((c < 0x20 && !isSpace(c)) || c === 0xfffe || c === 0xffff) return wrong('a character that XML does not allow in the XML declaration');
      switch (this.state) {
        case NAME_START:
          if (c === 0x3f /* ? */) this.state = ENDING;
          else if (!isSpace(c)) {
            this.name = '';
            this.state = NAME;
            continue; // read again, as the name's first character
          }
          break;
        case NAME:
          if (c === 0x3f) return INCOMPLETE;
          if (!isSpace(c) && c !== 0x3d /* = */) {
            this.name += text[i];
            break;
          }
          if (!NEXT[this.last]!.includes(this.name)) return wrong(`'${this.name}' where the XML declaration expects ${NEXT[this.last]!.join(' or ') || 'its end'}`);
          this.state = c === 0x3d ? VALUE_START : EQ;
          break;
        case EQ:
        case VALUE_START:
          if (isSpace(c)) break;
          if (c === 0x3f) return INCOMPLETE;
          if (this.state === EQ) {
            if (c !== 0x3d) return wrong(`no value for '${this.name}' in the XML declaration`);
            this.state = VALUE_START;
          } else {
            if (c !== 0x27 && c !== 0x22) return wrong('an unquoted value in the XML declaration');
            this.quote = c;
            this.value = '';
            this.state = VALUE;
          }
          break;
        case VALUE:
          if (c === 0x3f) return INCOMPLETE;
          if (c !== this.quote) {
            this.value += text[i];
            break;
          }
          if (!VALID[this.name as keyof typeof VALID].test(this.value)) return wrong(`'${this.value}' is not a valid ${this.name} in the XML declaration`);
          this.last = this.name;
          if (this.name === 'encoding') this.encoding = this.value;
          if (this.name === 'standalone') this.standalone = this.value;
          this.state = SEPARATOR;
          break;
        case SEPARATOR:
          if (c === 0x3f) this.state = ENDING;
          else if (isSpace(c)) this.state = NAME_START;
          else return wrong('no space between the values of the XML declaration');
          break;
        case ENDING:
          if (c !== 0x3e /* > */) return wrong("'?' inside the XML declaration");
          return this.end(i + 1);
      }
      i++;
    }
    return MORE;
  }

  private end(next: number): DeclarationStep {
    if (this.last === '') return wrong('an XML declaration without a version');
    // §11.6 / §4.9.3.22: only UTF-8.
    if (this.encoding !== undefined && this.encoding.toUpperCase() !== 'UTF-8') {
      return { kind: 'error', condition: 'unsupported-encoding', text: `encoding '${this.encoding}' is not supported, only UTF-8 (RFC 6120 §11.6)` };
    }
    // §11.5: standalone='no' → restricted-xml (we choose closing over ignoring); 'yes' means nothing and is ignored.
    if (this.standalone === 'no') return { kind: 'error', condition: 'restricted-xml', text: "standalone='no' in the XML declaration (RFC 6120 §11.5)" };
    // §11.8: XMPP is an application profile of XML 1.0, whatever version the declaration names.
    return { kind: 'done', next };
  }
}
