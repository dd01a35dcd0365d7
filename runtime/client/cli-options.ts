/**
 * Options shared by the client commands (`xmppkit send`, `xmppkit connect`): who to log in
 * as, where to connect, and how to check the server's certificate.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Timeouts } from '../../machines/protocol.js';
import type { ClientOptions } from './client.js';
import { readCaFile } from './tls-options.js';

export const CLIENT_ARG_OPTIONS = {
  jid: { type: 'string' },
  password: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  insecure: { type: 'boolean', default: false },
  ca: { type: 'string' },
  timeouts: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const CLIENT_ARG_USAGE =
  '--jid JID --password PW [--host HOST] [--port N] [--insecure | --ca FILE] [--timeouts n,i,p,c]   (password also from $XMPPKIT_PASSWORD)';

/** A usage error: printed with the usage line, exit code 2. */
export class UsageError extends Error {}

type Values = { [K in keyof typeof CLIENT_ARG_OPTIONS]?: string | boolean | undefined };

/** Client options from parsed values; throws UsageError for missing or contradictory ones. */
export function clientOptionsFrom(values: Values, env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const jid = values.jid;
  if (typeof jid !== 'string' || jid === '') throw new UsageError('--jid is required');
  const password = typeof values.password === 'string' ? values.password : env['XMPPKIT_PASSWORD'];
  if (password === undefined) throw new UsageError('--password is required (or set XMPPKIT_PASSWORD)');
  if (values.insecure === true && values.ca !== undefined) throw new UsageError('give --insecure or --ca FILE, not both');
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be 1..65535, not '${String(values.port)}'`);
  }
  let ca: string | undefined;
  if (typeof values.ca === 'string') {
    try {
      ca = readCaFile(values.ca);
    } catch (err) {
      throw new UsageError(`--ca ${values.ca}: ${(err as Error).message}`);
    }
  }
  let timeouts: Timeouts | undefined;
  if (typeof values.timeouts === 'string') {
    const parts = values.timeouts.split(',').map(Number);
    if (parts.length !== 4 || parts.some((x) => !Number.isFinite(x) || x <= 0)) {
      throw new UsageError('--timeouts takes four positive numbers: negotiation,idle,pingResponse,closeWait (ms, RFC 6120 §4.6)');
    }
    const [negotiation, idle, pingResponse, closeWait] = parts as [number, number, number, number];
    timeouts = { negotiation, idle, pingResponse, closeWait };
  }
  return {
    jid,
    password,
    ...(timeouts !== undefined ? { policy: { timeouts } } : {}),
    ...(typeof values.host === 'string' ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
    tls: { ...(values.insecure === true ? { insecure: true } : {}), ...(ca !== undefined ? { ca } : {}) },
  };
}

/** parseArgs with the shared options plus a command's own. */
export function parseClientArgs<O extends ParseArgsConfig['options']>(argv: string[], extra: O) {
  return parseArgs({ args: argv, options: { ...CLIENT_ARG_OPTIONS, ...extra }, allowPositionals: true, strict: true });
}
