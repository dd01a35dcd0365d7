/**
 * Finding and reaching an XMPP service by name, RFC 6120 §3.2: the SRV lookups
 * (`_xmpp-client._tcp` / `_xmpp-server._tcp`, and XEP-0368's `_xmpps-…` for direct TLS),
 * the A/AAAA lookups of each target (§3.2.1 step 4), then one connection attempt after
 * another until one works (steps 5-7), or the §3.2.2 fallback. The ordering itself is
 * srv.ts (pure); this file does the I/O.
 *
 * DNS goes through an injected `node:dns/promises` Resolver (default: a new one, which
 * reads /etc/resolv.conf, so inside a test network's namespace dnsmasq answers). A static
 * per-domain override (§3.2.3, "explicitly configured") wins over DNS.
 *
 * Choices:
 *  - the A and AAAA lookups of a target are made together; IPv4 addresses are tried
 *    first, then IPv6 (no Happy Eyeballs: an IPv6 address without a route would cost a
 *    whole attempt timeout before IPv4 got its turn);
 *  - an override's host goes to the operating system's resolver (it may be `localhost` or
 *    a name from /etc/hosts, as an explicitly configured host always did);
 *  - a certificate refused on a direct TLS candidate counts as that candidate failing, and
 *    the next one is tried (§3.2.1 step 7 says "fails to connect"; another host of the
 *    service may well hold the right certificate). Its reason is kept like any other;
 *  - each attempt (TCP, and the TLS handshake for direct TLS) has its own timeout.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { xmppCheckServerIdentity } from '../tls/identity.js';
import { candidateList, parseOverride, srvName, type Candidate, type CandidateList, type SrvResult, type XmppServiceName } from './srv.js';

/** The part of a node:dns/promises Resolver used here. */
export type DnsResolver = Pick<Resolver, 'resolveSrv' | 'resolve4' | 'resolve6'>;

export interface ResolveOptions {
  /** Default: `new Resolver()` (the system's /etc/resolv.conf). */
  readonly resolver?: DnsResolver;
  /** Domain → `host:port` (or `host`), used instead of DNS (§3.2.3), e.g. `{ 'b.test': '10.0.0.2:5269' }`. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Also look up `_xmpps-*` records and use direct TLS candidates (XEP-0368). Default true. */
  readonly directTls?: boolean;
  /** Uniform in [0, 1), for the RFC 2782 weighted selection. Default Math.random. */
  readonly random?: () => number;
}

/** The candidates and what each DNS query said (for error reports). */
export interface Resolution {
  readonly list: CandidateList;
  readonly lookups: readonly string[];
}

/** DNS errors that mean an answer came and it held nothing; anything else: no usable response. */
const EMPTY_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

async function lookupSrv(resolver: DnsResolver, name: string): Promise<SrvResult> {
  try {
    const records = await resolver.resolveSrv(name);
    return records.length > 0 ? { kind: 'records', records } : { kind: 'none', reason: `${name}: no SRV records` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // §3.2.1 step 9: without an answer, the §3.2.2 fallback is taken all the same.
    return { kind: 'none', reason: `${name}: ${EMPTY_ANSWER.has(code) ? 'no SRV records' : 'no answer'} (${code})` };
  }
}

function describe(name: string, r: SrvResult): string {
  if (r.kind === 'none') return r.reason;
  return `${name}: ${r.records.map((x) => `${x.priority} ${x.weight} ${x.port} ${x.name || '.'}`).join(', ')}`;
}

/** The domain's override, when one is configured (lower-cased lookup: DNS names are case-insensitive). */
function overrideOf(domain: string, overrides: Readonly<Record<string, string>> | undefined): string | undefined {
  if (!overrides) return undefined;
  const key = Object.keys(overrides).find((k) => k.toLowerCase() === domain.toLowerCase());
  return key === undefined ? undefined : overrides[key];
}

/** §3.2.1 steps 1-3 (and §3.2.3): the ordered candidates for `service` at `domain`. */
export async function resolveCandidates(domain: string, service: XmppServiceName, opts: ResolveOptions = {}): Promise<Resolution> {
  const override = overrideOf(domain, opts.overrides);
  if (override !== undefined) {
    return { list: { kind: 'candidates', candidates: [parseOverride(override, service)] }, lookups: [`${domain}: override ${override}`] };
  }
  const resolver = opts.resolver ?? new Resolver();
  const wantDirect = opts.directTls !== false;
  const starttlsName = srvName(service, domain, false);
  const directName = srvName(service, domain, true);
  const [starttls, direct] = await Promise.all([
    lookupSrv(resolver, starttlsName),
    wantDirect ? lookupSrv(resolver, directName) : Promise.resolve(undefined),
  ]);
  const lookups = [describe(starttlsName, starttls), ...(direct ? [describe(directName, direct)] : [])];
  const list = candidateList({ domain, service, starttls, ...(direct ? { directTls: direct } : {}), random: opts.random ?? Math.random });
  return { list, lookups };
}

export type AttemptFailure = 'dns' | 'refused' | 'unreachable' | 'timeout' | 'tls' | 'closed' | 'error';

/** One failed try: the candidate, the address (when one was resolved), what went wrong. */
export interface FailedAttempt {
  readonly candidate: Candidate;
  readonly address?: string;
  readonly failure: AttemptFailure;
  readonly reason: string;
}

/**
 * Why no connection could be made. `condition` is the stanza error a server would answer
 * for a stanza it cannot route there (RFC 6120 §8.3.3.16 / §8.3.3.17):
 *  - `remote-server-timeout`: the name resolved to an address, but an attempt ran out of
 *    time ("resolved but communications could not be established within a reasonable
 *    amount of time");
 *  - `remote-server-not-found`: otherwise (not available, no address, every address
 *    refused or unreachable, certificates refused).
 */
export class ConnectToDomainError extends Error {
  readonly condition: 'remote-server-not-found' | 'remote-server-timeout';
  constructor(
    readonly domain: string,
    readonly service: XmppServiceName,
    readonly attempts: readonly FailedAttempt[],
    readonly lookups: readonly string[],
    readonly unavailable?: string,
  ) {
    const timedOut = attempts.some((a) => a.failure === 'timeout');
    const condition = timedOut ? 'remote-server-timeout' : 'remote-server-not-found';
    const lines = unavailable !== undefined
      ? [unavailable]
      : attempts.map((a) => `${a.candidate.directTls ? 'direct TLS ' : ''}${a.candidate.host}${a.address && a.address !== a.candidate.host ? ` (${a.address})` : ''}:${a.candidate.port} [${a.candidate.source}]: ${a.failure}: ${a.reason}`);
    super(`cannot reach ${service} service of ${domain} (${condition}, RFC 6120 §3.2):\n  ${[...lines, ...lookups.map((l) => `DNS ${l}`)].join('\n  ')}`);
    this.name = 'ConnectToDomainError';
    this.condition = condition;
  }
}

/** TLS for direct TLS candidates (XEP-0368): the same checks as after STARTTLS (its rule 4). */
export interface DirectTlsOptions {
  /** Trust anchors (PEM); default Node's root store. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Default true. False: neither chain nor identity is checked (tests, teaching). */
  readonly rejectUnauthorized?: boolean;
  /** Default `xmppCheckServerIdentity(domain, service)`: RFC 6125 against the source domain. */
  readonly checkServerIdentity?: (host: string, cert: tls.PeerCertificate) => Error | undefined;
  /** Our certificate, for a server that authenticates us by it (s2s, RFC 6120 §13.7.1). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface ConnectOptions extends ResolveOptions {
  /** Per attempt (TCP connect, and the TLS handshake for direct TLS). Default 10 000 ms. */
  readonly attemptTimeoutMs?: number;
  readonly tls?: DirectTlsOptions;
  /** Abandons the whole process (resolution included); the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Told about every failed attempt as it happens (logging). */
  readonly onAttemptFailed?: (attempt: FailedAttempt) => void;
}

export interface Connected {
  /** A plain TCP socket (STARTTLS comes next, §5), or a TLSSocket already verified (direct TLS). */
  readonly socket: net.Socket;
  readonly candidate: Candidate;
  readonly address: string;
  /** The attempts that failed before this one. */
  readonly failed: readonly FailedAttempt[];
  readonly lookups: readonly string[];
}

/** §3.2.1 step 4: the target's addresses, IPv4 first; an IP literal is its own address. */
async function addressesOf(resolver: DnsResolver, host: string): Promise<{ addresses: string[]; reason: string }> {
  if (isIP(host) !== 0) return { addresses: [host], reason: '' };
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  const code = (r: PromiseSettledResult<string[]>): string => (r.status === 'rejected' ? ((r.reason as NodeJS.ErrnoException).code ?? 'error') : 'none');
  return { addresses, reason: `no A/AAAA record for ${host} (A: ${code(v4)}, AAAA: ${code(v6)})` };
}

function failureOf(err: NodeJS.ErrnoException, tcpUp: boolean, directTls: boolean): AttemptFailure {
  if (err.code === 'ECONNREFUSED') return 'refused';
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return 'unreachable';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'dns';
  if (directTls && tcpUp) return 'tls';
  return 'error';
}

/** One attempt: TCP to address:port (and TLS on it for direct TLS), within the timeout. */
function attempt(
  domain: string,
  service: XmppServiceName,
  candidate: Candidate,
  address: string,
  opts: ConnectOptions,
): Promise<{ ok: true; socket: net.Socket } | { ok: false; failure: AttemptFailure; reason: string }> {
  const timeoutMs = opts.attemptTimeoutMs ?? 10_000;
  return new Promise((resolve) => {
    let tcpUp = false;
    const t = opts.tls ?? {};
    const socket: net.Socket = candidate.directTls
      ? tls.connect({
          host: address,
          port: candidate.port,
          // XEP-0368 rules 6-9: SNI is the JID's domain, ALPN names the service.
          servername: isIP(domain) === 0 ? domain : undefined,
          ALPNProtocols: [service],
          ...(t.ca !== undefined ? { ca: t.ca as string | Buffer | (string | Buffer)[] } : {}),
          ...(t.cert !== undefined ? { cert: t.cert, key: t.key } : {}),
          rejectUnauthorized: t.rejectUnauthorized ?? true,
          // RFC 6125 §6.2.1: the reference identity is the source domain, never the SRV target.
          checkServerIdentity: t.rejectUnauthorized === false ? () => undefined : (t.checkServerIdentity ?? xmppCheckServerIdentity(domain, service)),
        })
      : net.connect({ host: address, port: candidate.port });
    const done = (r: { ok: true; socket: net.Socket } | { ok: false; failure: AttemptFailure; reason: string }): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener(candidate.directTls ? 'secureConnect' : 'connect', onReady);
      if (!r.ok) {
        socket.on('error', () => undefined); // whatever the dying socket still reports is already decided
        socket.destroy();
      }
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, failure: 'timeout', reason: `no ${tcpUp ? 'TLS handshake' : 'TCP connection'} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const onError = (err: NodeJS.ErrnoException): void => {
      const failure = failureOf(err, tcpUp, candidate.directTls);
      done({ ok: false, failure, reason: failure === 'tls' && err.code ? `${err.code}: ${err.message}` : err.message });
    };
    const onClose = (): void => done({ ok: false, failure: 'closed', reason: `connection closed ${tcpUp ? 'during the TLS handshake' : 'before it was up'}` });
    const onReady = (): void => done({ ok: true, socket });
    const onAbort = (): void => done({ ok: false, failure: 'error', reason: 'aborted' });
    socket.once('connect', () => (tcpUp = true));
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once(candidate.directTls ? 'secureConnect' : 'connect', onReady);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * RFC 6120 §3.2.1: resolve, then try the candidates (connectCandidates). Rejects with a
 * ConnectToDomainError listing every failed attempt (and the DNS answers) when none works.
 */
export async function connectToDomain(domain: string, service: XmppServiceName, opts: ConnectOptions = {}): Promise<Connected> {
  const { list, lookups } = await resolveCandidates(domain, service, opts);
  if (opts.signal?.aborted) aborted(opts.signal);
  if (list.kind === 'unavailable') throw new ConnectToDomainError(domain, service, [], lookups, list.reason);
  return connectCandidates(domain, service, list.candidates, opts, lookups);
}

function aborted(signal: AbortSignal): never {
  throw signal.reason instanceof Error ? signal.reason : new Error('connection to the domain was aborted');
}

/**
 * §3.2.1 steps 4-7: each candidate's addresses in order (step 4), the next address of the
 * same target on failure (step 6), then the next target (step 7), until one connects.
 * `domain` is the source domain: SNI and the reference identity for direct TLS.
 */
export async function connectCandidates(
  domain: string,
  service: XmppServiceName,
  candidates: readonly Candidate[],
  opts: ConnectOptions = {},
  lookups: readonly string[] = [],
): Promise<Connected> {
  const resolver = opts.resolver ?? new Resolver();
  const failed: FailedAttempt[] = [];
  const fail = (a: FailedAttempt): void => {
    failed.push(a);
    opts.onAttemptFailed?.(a);
  };
  for (const candidate of candidates) {
    let addresses = [candidate.host];
    if (candidate.source !== 'override') {
      const found = await addressesOf(resolver, candidate.host);
      if (opts.signal?.aborted) aborted(opts.signal);
      if (found.addresses.length === 0) {
        fail({ candidate, failure: 'dns', reason: found.reason });
        continue;
      }
      addresses = found.addresses;
    }
    for (const address of addresses) {
      const r = await attempt(domain, service, candidate, address, opts);
      if (opts.signal?.aborted) {
        if (r.ok) r.socket.destroy();
        aborted(opts.signal);
      }
      if (r.ok) return { socket: r.socket, candidate, address, failed, lookups };
      fail({ candidate, address, failure: r.failure, reason: r.reason });
    }
  }
  throw new ConnectToDomainError(domain, service, failed, lookups);
}
