/**
 * The server's configuration file (`xmppkit serve --config FILE`, `xmppkit check-config FILE`):
 * the one place where a file becomes `ServerOptions`. Every option, its default and its reason
 * are in CONFIG.md (test/config/server-config.test.ts checks that the table lists every key of
 * CONFIG_SCHEMA below).
 *
 * Choices:
 * - Format: JSON with comments (jsonc.ts), as tsconfig.json: every Node user reads it, comments
 *   can say why a value was chosen, and it needs no dependency. YAML or TOML would need one.
 * - The keys are those of `ServerOptions` (runtime/server/server.ts) and of the library API in
 *   runtime/server/README.md, so a file and a `createServer({...})` call read the same.
 * - Every problem is reported, not only the first: unknown keys, duplicate keys, wrong types,
 *   out-of-range numbers, unknown names, missing TLS files, each with its line and column.
 *   A file with any problem yields no options (the server does not start on half a file).
 * - Relative paths (dataDir, cert, key) are relative to the file's directory, as tsconfig.json
 *   paths are, so the file means the same from any working directory.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import * as tls from 'node:tls';
import type { MechanismName } from '../../machines/protocol.js';
import { IMPLEMENTED_MECHANISMS } from '../../machines/sasl/api.js';
import { parseOverride } from '../net/srv.js';
import { prepareDomain } from '../server/data-dir.js';
import { LOG_LEVELS } from '../server/logger.js';
import type { ServerOptions } from '../server/server.js';
import { JsoncSyntaxError, parseJsonc, type JsonNode, type Position } from './jsonc.js';

/** One thing wrong with the file, where it is. */
export interface ConfigProblem {
  readonly at: Position;
  /** The option's dotted path ('policy.timeouts.idle'), '' for the file itself. */
  readonly key: string;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly options: ServerOptions }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Node's timers hold at most 2^31 − 1 ms; a longer delay fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

// ---------------------------------------------------------------------------------------------
// The schema: sections of leaves. A leaf turns a node into a value or returns a problem message.

type LeafCheck = (node: JsonNode, ctx: CheckContext) => { value: unknown } | { problem: string };
interface Leaf {
  readonly kind: 'leaf';
  readonly check: LeafCheck;
}
interface Section {
  readonly kind: 'section';
  readonly fields: Readonly<Record<string, Leaf | Section>>;
}
interface CheckContext {
  /** The configuration file's directory: relative paths are resolved against it. */
  readonly baseDir: string;
}

const leaf = (check: LeafCheck): Leaf => ({ kind: 'leaf', check });
const section = (fields: Record<string, Leaf | Section>): Section => ({ kind: 'section', fields });

function show(node: JsonNode): string {
  switch (node.kind) {
    case 'string':
      return `the string ${JSON.stringify(node.value)}`;
    case 'number':
      return `${node.value}`;
    case 'boolean':
      return `${node.value}`;
    case 'null':
      return 'null';
    default:
      return `an ${node.kind}`;
  }
}

/** An integer in [min, max]; `why` cites the bound's reason. */
function integer(min: number, max: number, why: string): Leaf {
  return leaf((node) => {
    if (node.kind !== 'number' || !Number.isInteger(node.value)) return { problem: `must be an integer, not ${show(node)}` };
    if (node.value < min || node.value > max) return { problem: `must be from ${min} to ${max} (${why}), not ${node.value}` };
    return { value: node.value };
  });
}

function oneOf(values: readonly string[], why: string): Leaf {
  return leaf((node) => {
    if (node.kind !== 'string') return { problem: `must be one of ${values.map((v) => `"${v}"`).join(', ')}, not ${show(node)}` };
    if (!values.includes(node.value)) return { problem: `unknown value "${node.value}": one of ${values.map((v) => `"${v}"`).join(', ')} (${why})` };
    return { value: node.value };
  });
}

const boolean = leaf((node) => (node.kind === 'boolean' ? { value: node.value } : { problem: `must be true or false, not ${show(node)}` }));

/** A non-empty string, then `more` on it. */
function string(more?: (s: string, ctx: CheckContext) => { value: unknown } | { problem: string }): Leaf {
  return leaf((node, ctx) => {
    if (node.kind !== 'string') return { problem: `must be a string, not ${show(node)}` };
    if (node.value === '') return { problem: 'must not be empty' };
    return more ? more(node.value, ctx) : { value: node.value };
  });
}

/** A PEM file that exists (relative to the configuration file). */
const pemFile = string((s, ctx) => {
  const path = resolve(ctx.baseDir, s);
  if (!existsSync(path)) return { problem: `no such file: ${path}` };
  if (!statSync(path).isFile()) return { problem: `not a file: ${path}` };
  try {
    if (!readFileSync(path, 'utf8').includes('-----BEGIN ')) return { problem: `not a PEM file (no "-----BEGIN"): ${path}` };
  } catch (e) {
    return { problem: `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` };
  }
  return { value: path };
});

const milliseconds = (why: string): Leaf => integer(1, MAX_TIMER_MS, why);

const mechanisms = leaf((node) => {
  const known = IMPLEMENTED_MECHANISMS as readonly string[];
  if (node.kind !== 'array') return { problem: `must be an array of SASL mechanism names, not ${show(node)}` };
  if (node.items.length === 0) return { problem: 'must name at least one SASL mechanism (RFC 6120 §6.3.3: without one nobody can authenticate)' };
  const out: MechanismName[] = [];
  for (const [i, item] of node.items.entries()) {
    if (item.kind !== 'string') return { problem: `[${i}] must be a mechanism name, not ${show(item)}` };
    if (!known.includes(item.value)) return { problem: `[${i}] unknown SASL mechanism "${item.value}": known are ${known.join(', ')}` };
    if (out.includes(item.value as MechanismName)) return { problem: `[${i}] "${item.value}" is listed twice` };
    out.push(item.value as MechanismName);
  }
  return { value: out };
});

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** `{ "domain": "host:port", ... }`: static addresses for remote domains (RFC 6120 §3.2.3). */
const domainHosts = leaf((node) => {
  if (node.kind !== 'object') return { problem: `must be an object of domain → "host:port", not ${show(node)}` };
  const out: Record<string, string> = {};
  for (const { key, value } of node.entries) {
    const d = prepareDomain(key);
    if (d === undefined) return { problem: `"${key}" is not a valid domain (RFC 7622 §3.2)` };
    if (value.kind !== 'string') return { problem: `"${key}" must map to a "host:port" string, not ${show(value)}` };
    try {
      parseOverride(value.value, 'xmpp-server');
    } catch (e) {
      return { problem: `"${key}": ${e instanceof Error ? e.message : String(e)}` };
    }
    out[d] = value.value;
  }
  return { value: out };
});

/** Every option of the file. CONFIG.md documents each one (defaults and reasons). */
export const CONFIG_SCHEMA: Section = section({
  domain: string((s) => {
    const d = prepareDomain(s);
    return d === undefined ? { problem: `not a valid domain (RFC 7622 §3.2): ${JSON.stringify(s)}` } : { value: s };
  }),
  host: string((s) =>
    isIP(s) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s)
      ? { value: s }
      : { problem: `not an IP address or host name: ${JSON.stringify(s)}` },
  ),
  port: integer(0, 65535, 'a TCP port; 0 picks a free one'),
  dataDir: string((s, ctx) => {
    const path = resolve(ctx.baseDir, s);
    return existsSync(path) && !statSync(path).isDirectory() ? { problem: `not a directory: ${path}` } : { value: path };
  }),
  cert: pemFile,
  key: pemFile,
  policy: section({
    tls: oneOf(['required', 'optional', 'none'], 'RFC 6120 §5.3.1'),
    mechanisms,
    allowPlainWithoutTls: boolean,
    maxAuthAttempts: integer(2, 5, 'RFC 6120 §6.4.5: "at least 2 and no more than 5"'),
    maxBindAttempts: integer(5, 10, 'RFC 6120 §7.7.3: "at least 5 and no more than 10"'),
    resourceConflict: oneOf(['override', 'disallow', 'generate'], 'RFC 6120 §7.7.2.2'),
    maxResourcesPerAccount: integer(1, UNLIMITED, 'RFC 6120 §7.6.2.1: at least the one being bound'),
    keepalive: oneOf(['ping', 'whitespace'], 'RFC 6120 §4.6.1'),
    timeouts: section({
      negotiation: milliseconds('milliseconds, Node timers hold at most 2^31 − 1'),
      idle: milliseconds('milliseconds, Node timers hold at most 2^31 − 1'),
      pingResponse: milliseconds('milliseconds, Node timers hold at most 2^31 − 1'),
      closeWait: milliseconds('milliseconds, Node timers hold at most 2^31 − 1'),
    }),
  }),
  limits: section({
    maxStanzaBytes: integer(10_000, UNLIMITED, 'RFC 6120 §13.12: "MUST NOT be smaller than 10000 bytes"'),
    maxConnections: integer(1, UNLIMITED, 'at least one connection'),
    bytesPerSecond: integer(1, UNLIMITED, 'a rate of 0 would never read again'),
    burstBytes: integer(1, UNLIMITED, 'bytes'),
    shutdownGraceMs: integer(0, MAX_TIMER_MS, 'milliseconds, Node timers hold at most 2^31 − 1'),
    offlineMessagesPerAccount: integer(0, UNLIMITED, '0: no offline storage, RFC 6121 §8.5.2.2.1 (b)'),
  }),
  s2s: section({
    enabled: boolean,
    port: integer(0, 65535, 'a TCP port; 0 picks a free one'),
    host: string((v) => (isIP(v) !== 0 ? { value: v } : { problem: `must be an IP address to listen on, not ${JSON.stringify(v)}` })),
    tls: oneOf(['required', 'optional'], 'RFC 6120 §5.3.1; a server stream without TLS cannot be authenticated by certificate'),
    dialback: boolean,
    caFile: pemFile,
    trustSystemRoots: boolean,
    hosts: domainHosts,
    attemptTimeoutMs: milliseconds('milliseconds, Node timers hold at most 2^31 − 1'),
  }),
  logLevel: oneOf(LOG_LEVELS, 'runtime/server/logger.ts'),
});

/** Every option's dotted path, in schema order (for CONFIG.md's table and its test). */
export function configKeys(s: Section = CONFIG_SCHEMA, prefix = ''): string[] {
  return Object.entries(s.fields).flatMap(([k, f]) => (f.kind === 'leaf' ? [prefix + k] : configKeys(f, `${prefix}${k}.`)));
}

// ---------------------------------------------------------------------------------------------

/** Check `text` (the contents of the file at `file`) against the schema. */
export function readServerConfig(text: string, file: string): ConfigResult {
  let root: JsonNode;
  try {
    root = parseJsonc(text);
  } catch (e) {
    if (e instanceof JsoncSyntaxError) return { ok: false, problems: [{ at: e.at, key: '', message: e.reason }] };
    throw e;
  }
  const problems: ConfigProblem[] = [];
  const ctx: CheckContext = { baseDir: dirname(resolve(file)) };
  const options = walk(CONFIG_SCHEMA, root, '', ctx, problems) as ServerOptions & Record<string, unknown>;
  // cert and key go together (startup.ts loadTls).
  if (problems.length === 0 && (options.cert === undefined) !== (options.key === undefined)) {
    const given = options.cert !== undefined ? 'cert' : 'key';
    const entry = root.kind === 'object' ? root.entries.find((e) => e.key === given) : undefined;
    problems.push({ at: entry?.keyAt ?? root.at, key: given, message: `"${given}" needs "${given === 'cert' ? 'key' : 'cert'}" too (a certificate and its private key)` });
  }
  if (problems.length === 0 && options.cert !== undefined && options.key !== undefined) {
    try {
      tls.createSecureContext({ cert: readFileSync(options.cert, 'utf8'), key: readFileSync(options.key, 'utf8') });
    } catch (e) {
      const entry = root.kind === 'object' ? root.entries.find((x) => x.key === 'key') : undefined;
      problems.push({ at: entry?.keyAt ?? root.at, key: 'key', message: `cert and key are not a usable pair: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  problems.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  return problems.length === 0 ? { ok: true, options } : { ok: false, problems };
}

/** Read and check the file at `path` (a missing or unreadable file is one problem at 1:1). */
export function loadServerConfig(path: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e);
    return { ok: false, problems: [{ at: { line: 1, column: 1 }, key: '', message: `cannot read the configuration file: ${reason}` }] };
  }
  return readServerConfig(text, path);
}

/**
 * The file's options with the command line's on top (`xmppkit serve --port 5223 --config F`):
 * a flag that was given replaces the file's value; a certificate given on the command line
 * comes with its key (serve.ts checks the pair), so the pair is replaced whole.
 */
export function withOverrides(file: ServerOptions, flags: Partial<Record<'domain' | 'host' | 'dataDir' | 'cert' | 'key' | 'logLevel', string | undefined>> & { readonly port?: number | undefined }): ServerOptions {
  const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  return { ...file, ...given } as ServerOptions;
}

/** `FILE:LINE:COLUMN: key: message`, the form editors and compilers use. */
export function formatProblem(file: string, p: ConfigProblem): string {
  return `${file}:${p.at.line}:${p.at.column}: ${p.key === '' ? '' : `${p.key}: `}${p.message}`;
}

function walk(s: Section, node: JsonNode, prefix: string, ctx: CheckContext, problems: ConfigProblem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (node.kind !== 'object') {
    problems.push({ at: node.at, key: prefix.replace(/\.$/, ''), message: `must be an object {…}, not ${show(node)}` });
    return out;
  }
  const seen = new Map<string, Position>();
  for (const { key, keyAt, value } of node.entries) {
    const path = prefix + key;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ at: keyAt, key: path, message: `duplicate key (first at ${first.line}:${first.column})` });
      continue;
    }
    seen.set(key, keyAt);
    const field = s.fields[key];
    if (field === undefined) {
      problems.push({ at: keyAt, key: path, message: `unknown option (known here: ${Object.keys(s.fields).join(', ')})` });
      continue;
    }
    if (field.kind === 'section') {
      out[key] = walk(field, value, `${path}.`, ctx, problems);
      continue;
    }
    const checked = field.check(value, ctx);
    if ('problem' in checked) problems.push({ at: value.at, key: path, message: checked.problem });
    else out[key] = checked.value;
  }
  return out;
}
