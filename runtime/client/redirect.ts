/**
 * RFC 6120 §4.9.3.19 `<see-other-host/>`: the character data names where to reconnect,
 * "a valid domainpart or a domainpart plus port number" ("domainpart:port"), an IPv6
 * address in square brackets. The port defaults to 5222 (§3.2.1 fallback).
 */
import { isIPv6 } from 'node:net';
import { parseJid } from '../../machines/jid.js';

/** §4.9.3.19: "abort the connection attempt after a certain number of successive redirects (e.g., at least 2 but no more than 5)". Choice: 3. */
export const MAX_REDIRECTS = 3;

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
