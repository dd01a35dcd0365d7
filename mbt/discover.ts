/**
 * The policy of a third-party server, read from its stream features (RFC 6120 §4.3.2): whether
 * STARTTLS is required or optional (§5.3.1) and which SASL mechanisms it offers before and
 * after TLS (§6.3.3). The model then runs with the same choices, so that what remains is a
 * deviation and not a configuration difference. Choices features do not reveal (retry limits,
 * keepalive, timers) stay at the project's defaults, and the report says so.
 */
import { DEFAULT_SERVER_POLICY } from '../machines/policy.js';
import { NS } from '../machines/ns.js';
import type { MechanismName } from '../machines/protocol.js';
import { IMPLEMENTED_MECHANISMS } from '../machines/sasl/api.js';
import { child, childElements, text, type XmlElement } from '../machines/xml.js';
import { serializeElement, serializeHeader } from '../runtime/xml/index.js';
import { header, type Account } from './actions.js';
import { WireClient } from './client.js';
import type { ModelPolicy } from './model.js';

export interface Discovered {
  readonly policy: ModelPolicy;
  /** Mechanism names as offered, including ones the model does not implement. */
  readonly offered: { readonly plain: readonly string[]; readonly secured: readonly string[] };
}

async function features(conn: WireClient, account: Account): Promise<XmlElement | undefined> {
  conn.write(serializeHeader(header(account)));
  await conn.waitFor(2, 5000);
  const got = conn.take();
  const f = got.find((o) => o.kind === 'element' && o.element.name === 'features' && o.element.xmlns === NS.STREAMS);
  return f?.kind === 'element' ? f.element : undefined;
}

function mechanisms(f: XmlElement | undefined): string[] {
  const m = f && child(f, 'mechanisms', NS.SASL);
  return m ? childElements(m).map((c) => text(c).trim()) : [];
}

export async function discoverPolicy(target: { host: string; port: number; account: Account; insecure: boolean; ca?: string }): Promise<Discovered> {
  const conn = await WireClient.connect({ host: target.host, port: target.port });
  try {
    const first = await features(conn, target.account);
    if (first === undefined) throw new Error(`${target.host}:${target.port} sent no stream features (is it an XMPP server for ${target.account.domain}?)`);
    const starttls = child(first, 'starttls', NS.TLS);
    const tls: ModelPolicy['tls'] = starttls === undefined ? 'none' : child(starttls, 'required', NS.TLS) ? 'required' : 'optional';
    const plain = mechanisms(first);
    let secured: string[] = plain;
    if (starttls !== undefined) {
      conn.write(serializeElement({ name: 'starttls', xmlns: NS.TLS, attrs: {}, children: [] }, NS.CLIENT));
      await conn.waitFor(1, 5000);
      conn.take();
      await conn.startTls(target.account.domain, { insecure: target.insecure, ...(target.ca !== undefined ? { ca: target.ca } : {}) });
      secured = mechanisms(await features(conn, target.account));
    }
    const offered = (tls === 'none' ? plain : secured).filter((m): m is MechanismName => (IMPLEMENTED_MECHANISMS as readonly string[]).includes(m));
    return {
      policy: {
        ...DEFAULT_SERVER_POLICY,
        tls,
        // The order offered is the server's preference (§6.3.3); the model offers the same.
        mechanisms: offered,
        allowPlainWithoutTls: tls !== 'none' && plain.includes('PLAIN'),
      },
      offered: { plain, secured },
    };
  } finally {
    conn.destroy();
  }
}
