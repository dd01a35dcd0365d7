/**
 * RFC 6120 §4.9.3.19 `<see-other-host/>`: the character data names where to reconnect,
 * "a valid domainpart or a domainpart plus port number" ("domainpart:port"), an IPv6
 * address in square brackets. The port defaults to 5222 (§3.2.1 fallback). Parsing is the
 * runtime's job (it needs node:net); whether to follow is the connection lifecycle's.
 */
import { isIPv6 } from 'node:net';
import { parseJid } from '../../machines/jid.js';

/** How many successive redirects are followed is the lifecycle's rule (machines/connection). */
export { MAX_REDIRECTS } from '../../machines/connection/index.js';

export function parseSeeOtherHost(text: string | undefined): { host: string; port: number } | undefined {
  const s = text?.trim() ?? '';
  if (s === '') return undefined;
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    if (!isIPv6(v6[1]!)) return undefined;
    host = v6[1]!;
    portText = v6[2];
  } else {
    const colon = s.lastIndexOf(':');
    host = colon === -1 ? s : s.slice(0, colon);
    portText = colon === -1 ? undefined : s.slice(colon + 1);
    // A domainpart (RFC 7622 §3.2) without '@' or '/': an FQDN or an IPv4 address.
    const jid = parseJid(host);
    if (jid === undefined || jid.local !== undefined || jid.resource !== undefined || host.includes(':')) return undefined;
  }
  const port = portText === undefined ? 5222 : Number(portText);
  if (!/^\d*$/.test(portText ?? '') || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}
