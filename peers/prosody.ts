/**
 * A private Prosody (Debian's package) for interop tests and the benchmark: its own config,
 * data, certificate and log under a fresh temp directory, client-to-server on 127.0.0.1
 * (or the `bind` address), no HTTP, no components, s2s only when asked for (then with
 * Server Dialback, XEP-0220), SCRAM-stored accounts (internal_hashed), run in the
 * foreground as our child process (inside a network namespace when asked) and stopped by
 * its PID. Never the system service.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../runtime/tls/certificate.js';
import {
  chownTree,
  packageVersion,
  peerBasics,
  runTool,
  startDaemon,
  systemUser,
  type PeerOptions,
  type RunningPeer,
  s2sSettings,
} from './daemon.js';
import { LOOPBACK, waitForPort } from './ports.js';

export interface ProsodyOptions extends PeerOptions {
  /**
   * Nagle's algorithm on client connections (Prosody's `network_settings.nagle`). Prosody's
   * default (true) adds about 40 ms to each login on loopback, Nagle meeting delayed ACK
   * between its stream header and features; false is the fair setting for timings.
   */
  readonly nagle?: boolean;
  /** Minimum level written to the log; default 'info'. */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** Lua string literal. */
function lua(s: string): string {
  return JSON.stringify(s);
}

/**
 * The s2s lines: a listener on `bind`, mod_dialback, and no demand for a certificate that
 * verifies: s2s_secure_auth = false lets dialback (XEP-0220) authenticate a peer whose
 * self-signed certificate does not (RFC 6120 §13.7.2.1 leaves that fallback to policy).
 */
function s2sLines(bind: string, opts: ProsodyOptions): string[] {
  const s2s = s2sSettings(opts);
  if (s2s === undefined) return ['s2s_ports = { }', 's2s_direct_tls_ports = { }', 'modules_disabled = { "s2s" }', 's2s_require_encryption = true'];
  return [
    `s2s_ports = { ${s2s.port} }`,
    `s2s_interfaces = { ${lua(bind)} }`,
    's2s_direct_tls_ports = { }',
    's2s_secure_auth = false',
    // STARTTLS offered and used, not required (§5.3.1): the certificate proves nothing here.
    's2s_require_encryption = false',
  ];
}

export function prosodyConfig(dir: string, port: number, domain: string, opts: ProsodyOptions): string {
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  // A private CA: the anchor Prosody verifies peer servers' certificates against (its s2s cert_chain_status).
  const ssl = `key = ${lua(key)}; certificate = ${lua(cert)}${opts.certificate !== undefined ? `; cafile = ${lua(join(dir, 'ca.pem'))}` : ''}`;
  const bind = opts.bind ?? LOOPBACK;
  const network = opts.nagle === undefined ? '' : ` nagle = ${opts.nagle ? 'true' : 'false'} `;
  const s2s = s2sSettings(opts) !== undefined;
  return [
    '-- written by peers/prosody.ts',
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    `admin_socket = ${lua(join(dir, 'prosody.sock'))}`,
    `log = { { levels = { min = ${lua(opts.logLevel ?? 'info')} }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }`,
    `interfaces = { ${lua(bind)} }`,
    `local_interfaces = { ${lua(LOOPBACK)} }`,
    `c2s_ports = { ${port} }`,
    `c2s_interfaces = { ${lua(bind)} }`,
    'c2s_direct_tls_ports = { }',
    'http_ports = { }',
    'https_ports = { }',
    'component_ports = { }',
    `modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "time"; "version"; "uptime"${s2s ? '; "dialback"' : ''} }`,
    ...s2sLines(bind, opts),
    'authentication = "internal_hashed"',
    'storage = "internal"',
    'allow_registration = false',
    `c2s_require_encryption = ${opts.requireTls ?? true}`,
    `certificates = ${lua(join(dir, 'certs'))}`,
    `ssl = { ${ssl} }`,
    `network_settings = {${network}}`,
    `VirtualHost ${lua(domain)}`,
    `  ssl = { ${ssl} }`,
    '',
  ].join('\n');
}

/** Starts a private Prosody; resolves once its c2s port accepts. */
export async function startProsody(opts: ProsodyOptions = {}): Promise<RunningPeer> {
  const version = await packageVersion('prosody', 'prosody');
  const { domain, host, port, accounts, dir, cleanup } = await peerBasics(opts, 'prosody');
  const s2s = s2sSettings(opts);
  const netns = opts.netns;
  try {
    const { certPem, keyPem } = opts.certificate ?? createSelfSignedCertificate(domain);
    const ca = opts.certificate?.caPem ?? certPem;
    writeFileSync(join(dir, 'server.crt'), certPem);
    writeFileSync(join(dir, 'server.key'), keyPem, { mode: 0o600 });
    if (opts.certificate !== undefined) writeFileSync(join(dir, 'ca.pem'), opts.certificate.caPem);
    const cfg = join(dir, 'prosody.cfg.lua');
    writeFileSync(cfg, prosodyConfig(dir, port, domain, opts));
    for (const sub of ['data', 'certs']) mkdirSync(join(dir, sub));
    // As root, Prosody runs as its package's user, which must own the directory.
    const user = systemUser('prosody');
    chownTree(dir, user);
    const env = { ...process.env, HOME: dir };
    for (const [name, password] of Object.entries(accounts)) {
      await runTool('prosodyctl', ['--config', cfg, 'register', name, domain, password], { user, env, netns });
    }
    const daemon = startDaemon('prosody', ['--config', cfg, '-F'], { user, env, cwd: dir, netns });
    const log = (): string => {
      let file = '';
      try {
        file = readFileSync(join(dir, 'prosody.log'), 'utf8');
      } catch {
        // not written yet
      }
      return `${file}${daemon.output()}`.slice(-8192);
    };
    try {
      const wait = { host, netns, timeoutMs: opts.startTimeoutMs ?? 60_000, failed: daemon.exitReason };
      await waitForPort(port, wait);
      if (s2s !== undefined) await waitForPort(s2s.port, wait);
    } catch (err) {
      await daemon.stop();
      throw new Error(`Prosody did not start: ${(err as Error).message}\n${log()}`);
    }
    let stopped: Promise<void> | undefined;
    return {
      name: 'prosody',
      version,
      host,
      port,
      ...(netns !== undefined && { netns }),
      ...(s2s !== undefined && { s2sPort: s2s.port }),
      domain,
      pid: daemon.pid,
      dir,
      ca,
      accounts,
      log,
      stop: () => (stopped ??= daemon.stop().finally(cleanup)),
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
