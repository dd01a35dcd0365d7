/**
 * What the server is started with: the receiving entity's input (the policy over its
 * defaults, each default cited in machines/policy.ts) and the TLS context (§5, §13.7).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { DEFAULT_SERVER_POLICY } from '../../machines/policy.js';
import type { ReceivingEntityMachineInput } from '../../machines/receiving/index.js';
import { el } from '../../machines/xml.js';
import { certificateIn, fakeSaltSecretIn } from './data-dir.js';
import { ROSTERVER_NS } from './roster.js';
import { IQ_NS } from './server-iq.js';
import type { RandomBytes, Timeouts } from '../../machines/protocol.js';

/** Machine policy a server operator may change (RFC 6120 choices; defaults in machines/policy.ts). */
export type ServerPolicy = Partial<Omit<ReceivingEntityMachineInput, 'domain' | 'random' | 'timeouts' | 'secure'>> & {
  readonly timeouts?: Partial<Timeouts>;
};

/** §4.7.3 stream ids, nonces, resourceparts, ping ids: unpredictable (real CSPRNG). */
const random: RandomBytes = (n) => new Uint8Array(randomBytes(n));

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/** The machine input for every stream of this server: defaults, then the operator's policy. */
export function machineInputFor(serverPolicy: ServerPolicy | undefined, domain: string, dataDir: string): ReceivingEntityMachineInput {
  const { timeouts: timeoutOverrides, ...policy } = serverPolicy ?? {};
  return {
    ...DEFAULT_SERVER_POLICY,
    ...stripUndefined(policy),
    timeouts: { ...DEFAULT_SERVER_POLICY.timeouts, ...stripUndefined(timeoutOverrides ?? {}) },
    domain,
    random,
    fakeSaltSecret: fakeSaltSecretIn(dataDir),
    boundFeatures: [
      // RFC 6121 §2.6.1: "If a server supports roster versioning, then it MUST advertise" it (roster.ts does, §2.6.3).
      el('ver', ROSTERVER_NS),
      // draft-cridland-xmpp-session §2 (RFC 6121 Appendix E dropped the request): advertised with
      // <optional/>, so older clients that look for it (RFC 3921 §3) may send it and newer ones may skip it;
      // server-iq.ts answers it with an empty result.
      el('session', IQ_NS.SESSION, {}, el('optional', IQ_NS.SESSION)),
    ],
  };
}

/** The certificate and key given (files or PEM text), else the data directory's self-signed pair; none when TLS is off. */
export function loadTls(
  opts: { readonly cert?: string; readonly key?: string },
  tlsPolicy: ReceivingEntityMachineInput['tls'],
  dataDir: string,
  domain: string,
): { certificatePem: string | undefined; keyPem: string | undefined; secureContext: tls.SecureContext | undefined } {
  if (tlsPolicy === 'none') return { certificatePem: undefined, keyPem: undefined, secureContext: undefined };
  if ((opts.cert === undefined) !== (opts.key === undefined)) throw new Error('give both cert and key, or neither');
  if (opts.cert !== undefined && opts.key !== undefined) {
    for (const f of [opts.cert, opts.key]) if (!f.includes('-----BEGIN') && !existsSync(f)) throw new Error(`no such file: ${f}`);
    const certificatePem = pem(opts.cert);
    const keyPem = pem(opts.key);
    return { certificatePem, keyPem, secureContext: tls.createSecureContext({ cert: certificatePem, key: keyPem }) };
  }
  const bundle = certificateIn(dataDir, domain);
  return { certificatePem: bundle.certPem, keyPem: bundle.keyPem, secureContext: tls.createSecureContext({ cert: bundle.certPem, key: bundle.keyPem }) };
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
