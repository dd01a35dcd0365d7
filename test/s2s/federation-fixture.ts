/**
 * Two (or more) of our servers federating on loopback: each domain with a certificate from one
 * private CA (peers/ca.ts) or a wrong-name one, its s2s listener on a free port, and the
 * others reached through the static `hosts` overrides (§3.2.3) instead of DNS. The overrides
 * object is shared and filled in once every listener has its port, which is why it is built
 * before the servers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NS } from '../../machines/ns.js';
import { el, type XmlElement } from '../../machines/xml.js';
import { createPrivateCa, type PrivateCa } from '../../peers/ca.js';
import { createClient, type XmppClient } from '../../runtime/client/index.js';
import { createServer, type LogRecord, type S2sOptions, type XmppServer } from '../../runtime/server/index.js';
import { removeDir } from '../client/fixture.js';

export interface Domain {
  readonly domain: string;
  readonly server: XmppServer;
  readonly port: number;
  readonly s2sPort: number;
  readonly dataDir: string;
  readonly logs: LogRecord[];
  readonly certPem: string;
  readonly certificate: 'good' | 'wrong-name' | 'self-signed';
}

export interface DomainSpec {
  readonly domain: string;
  /** 'good': a CA certificate naming the domain; 'wrong-name': one for another name (dialback must do); 'self-signed': the data directory's own. */
  readonly certificate?: 'good' | 'wrong-name' | 'self-signed';
  readonly s2s?: Omit<S2sOptions, 'port' | 'hosts' | 'caFile'>;
}

export interface Federation {
  readonly ca: PrivateCa;
  readonly domains: Record<string, Domain>;
  /** A logged-in client of ours on the domain's server (CA-verified TLS; unchecked for a wrong-name certificate, which is the server-to-server test's point). */
  client(jid: string, password: string): Promise<XmppClient>;
  stop(): Promise<void>;
}

export const PASSWORD = 'secret-password';

export async function federate(specs: readonly DomainSpec[]): Promise<Federation> {
  const ca = createPrivateCa('federation test CA');
  const dir = mkdtempSync(join(tmpdir(), 'xmppkit-s2s-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const hosts: Record<string, string> = {};
  const domains: Record<string, Domain> = {};
  const clients: XmppClient[] = [];
  for (const spec of specs) {
    const dataDir = join(dir, spec.domain);
    const logs: LogRecord[] = [];
    const kind = spec.certificate ?? 'good';
    const bundle = kind === 'good' ? ca.issueServer(spec.domain) : kind === 'wrong-name' ? ca.issueWrongName(`not-${spec.domain}`) : undefined;
    const server = createServer({
      domain: spec.domain,
      port: 0,
      dataDir,
      ...(bundle && { cert: bundle.certPem, key: bundle.keyPem }),
      logLevel: 'debug',
      logger: (r) => logs.push(r),
      policy: { timeouts: { closeWait: 1000 } },
      limits: { shutdownGraceMs: 2000 },
      s2s: { port: 0, hosts, caFile, trustSystemRoots: false, attemptTimeoutMs: 3000, ...spec.s2s },
    });
    for (const user of ['alice', 'bob', 'carol']) server.accounts.add(user, PASSWORD);
    const { port } = await server.listen();
    const s2sPort = server.s2sAddress!.port;
    hosts[spec.domain] = `127.0.0.1:${s2sPort}`;
    domains[spec.domain] = { domain: spec.domain, server, port, s2sPort, dataDir, logs, certPem: server.certificatePem!, certificate: kind };
  }
  return {
    ca,
    domains,
    async client(jid, password) {
      const domain = domains[jid.slice(jid.indexOf('@') + 1)]!;
      const c = createClient({ jid, password, host: '127.0.0.1', port: domain.port, tls: domain.certificate === 'good' ? { ca: ca.certPem } : domain.certificate === 'self-signed' ? { ca: domain.certPem } : { insecure: true } });
      clients.push(c);
      await c.start();
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.stop()));
      await Promise.all(Object.values(domains).map((d) => d.server.close()));
      removeDir(dir);
    },
  };
}

export const chat = (to: string, body: string): XmlElement => el('message', NS.CLIENT, { to, type: 'chat' }, el('body', NS.CLIENT, {}, body));

/** The log records of `event` (e.g. 's2s.in.authenticated'). */
export const logged = (d: Domain, event: string): LogRecord[] => d.logs.filter((r) => r.event === event);
