/**
 * Namespaces in XML 1.0 for one start tag of the stream (RFC 6120 §4.8, §11.2): the
 * tag's namespace declarations, then its element and attribute names resolved against
 * them. Errors name the stream error condition to send: an undeclared prefix is
 * `bad-namespace-prefix` (§4.9.3.2), anything else against Namespaces in XML is
 * `not-well-formed` (§4.9.3.13, §11.3).
 */
import type { StreamErrorCondition } from '../../machines/conditions.js';
import { isQName } from './chars.js';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * The bindings in scope at one element. The default namespace ('' when there is none) is
 * carried by every scope; prefixes are looked up through the declaring ancestors. An
 * element without declarations shares its parent's scope.
 */
export class Scope {
  constructor(
    private readonly parent: Scope | undefined,
    private readonly prefixes: readonly string[],
    private readonly uris: readonly string[],
    readonly defaultNamespace: string,
  ) {}

  /** The namespace bound to `prefix` (not ''), if any. */
  lookup(prefix: string): string | undefined {
    for (let s: Scope | undefined = this; s !== undefined; s = s.parent) {
      const k = s.prefixes.indexOf(prefix);
      if (k !== -1) return s.uris[k];
    }
    return undefined;
  }
}

/** Bound everywhere (Namespaces in XML, section 3). */
export const ROOT_SCOPE = new Scope(undefined, ['xml', 'xmlns'], [XML_NS, XMLNS_NS], '');

export interface ResolvedTag {
  readonly prefix: string;
  readonly local: string;
  readonly uri: string;
  readonly scope: Scope;
  /** The default namespace declared on this tag itself, if any (the stream's content namespace, §4.8.2). */
  readonly declaredDefault: string | undefined;
  /**
   * Attributes by qualified name (machines/xml.ts): namespace declarations left out, except
   * `xmlns:p` for a prefixed attribute, which keeps the element serializable on its own.
   */
  readonly attrs: Record<string, string>;
}

export interface NameError {
  readonly condition: StreamErrorCondition;
  readonly text: string;
}

const wrong = (text: string): NameError => ({ condition: 'not-well-formed', text });
const unbound = (prefix: string): NameError => ({ condition: 'bad-namespace-prefix', text: `undeclared namespace prefix '${prefix}'` });

/** `xmlns` or `xmlns:prefix` (a qualified name, so nothing else starts with 'xmlns:'). */
function isDeclaration(name: string): boolean {
  return name.charCodeAt(0) === 0x78 /* x */ && name.startsWith('xmlns') && (name.length === 5 || name.charCodeAt(5) === 0x3a);
}

/** Checks one declaration `xmlns:prefix='uri'` (prefix '' for `xmlns='uri'`) against Namespaces in XML, section 3. */
function declarationError(prefix: string, uri: string): NameError | undefined {
  if (prefix === 'xmlns') return wrong("the prefix 'xmlns' must not be declared");
  if (prefix === 'xml') return uri === XML_NS ? undefined : wrong("the prefix 'xml' is bound to its own namespace only");
  if (uri === XML_NS || uri === XMLNS_NS) return wrong(`'${uri}' must not be declared for another prefix`);
  // Namespaces in XML 1.0 has no undeclaring of prefixes: xmlns:p='' is an error.
  if (prefix !== '' && uri === '') return wrong(`empty namespace name for the prefix '${prefix}'`);
  return undefined;
}

/**
 * Resolves the tag `qname` with raw attributes `raw` (name, value, name, value, ... as
 * written; XML names, unique) in `parent`'s scope.
 */
export function resolveTag(qname: string, raw: readonly string[], parent: Scope): ResolvedTag | NameError {
  let declaredDefault: string | undefined;
  let prefixes: string[] | undefined;
  let uris: string[] | undefined;
  for (let k = 0; k < raw.length; k += 2) {
    const name = raw[k]!;
    if (!isDeclaration(name)) continue;
    const prefix = name.length === 5 ? '' : name.slice(6);
    // A namespace name never has surrounding whitespace (it is a URI reference); a peer
    // that wraps one in spaces or line ends means the name inside, as saxes read it too.
    const uri = raw[k + 1]!.trim();
    const error = declarationError(prefix, uri);
    if (error) return error;
    if (prefix === '') {
      declaredDefault = uri;
    } else {
      (prefixes ??= []).push(prefix);
      (uris ??= []).push(uri);
    }
  }
  const scope =
    prefixes === undefined && declaredDefault === undefined
      ? parent
      : new Scope(parent, prefixes ?? [], uris ?? [], declaredDefault ?? parent.defaultNamespace);

  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  if (!isQName(qname)) return wrong(`<${qname}> is not a qualified name`);
  if (prefix === 'xmlns') return wrong(`element <${qname}> uses the reserved prefix 'xmlns'`);
  const uri = prefix === '' ? scope.defaultNamespace : scope.lookup(prefix);
  if (uri === undefined) return unbound(prefix);

  const attrs: Record<string, string> = {};
  let qualified: string[] | undefined; // "local uri" of prefixed attributes, for the uniqueness rule
  for (let k = 0; k < raw.length; k += 2) {
    const name = raw[k]!;
    if (isDeclaration(name)) continue;
    if (!isQName(name)) return wrong(`'${name}' is not a qualified name`);
    attrs[name] = raw[k + 1]!;
    const c = name.indexOf(':');
    if (c === -1) continue; // unprefixed attributes are in no namespace
    const p = name.slice(0, c);
    const ns = scope.lookup(p);
    if (ns === undefined) return unbound(p);
    // Namespaces in XML, section 6.3: no two attributes with the same local name and namespace.
    const expanded = `${name.slice(c + 1)} ${ns}`;
    if (qualified?.includes(expanded)) return wrong(`two attributes named {${ns}}${name.slice(c + 1)}`);
    (qualified ??= []).push(expanded);
    if (p !== 'xml') attrs[`xmlns:${p}`] = ns;
  }
  // A declared prefix is an NCName too (Namespaces in XML, section 3); checked after the
  // names that use prefixes, so an unbound one is reported first, as the former parser did.
  for (let k = 0; k < raw.length; k += 2) if (isDeclaration(raw[k]!) && !isQName(raw[k]!)) return wrong(`'${raw[k]}' declares a prefix that is not a name`);
  return { prefix, local, uri, scope, declaredDefault, attrs };
}
