/**
 * A private Prosody (Debian's package) for interop tests and the benchmark: its own config,
 * data, certificate and log under a fresh temp directory, client-to-server on 127.0.0.1
 * only (no s2s, no HTTP, no components), SCRAM-stored accounts (internal_hashed), run in
 * the foreground as our child process and stopped by its PID. Never the system service.
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

export function prosodyConfig(dir: string, port: number, domain: string, opts: ProsodyOptions): string {
  const key = join(dir, 'server.key');
  const cert = join(dir, 'server.crt');
  const network = opts.nagle === undefined ? '' : ` nagle = ${opts.nagle ? 'true' : 'false'} `;
  return [
    '-- written by peers/prosody.ts',
    `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
    `data_path = ${lua(join(dir, 'data'))}`,
    `admin_socket = ${lua(join(dir, 'prosody.sock'))}`,
    `log = { { levels = { min = ${lua(opts.logLevel ?? 'info')} }, to = "file", filename = ${lua(join(dir, 'prosody.log'))} } }`,
    `interfaces = { ${lua(LOOPBACK)} }`,
    `local_interfaces = { ${lua(LOOPBACK)} }`,
    `c2s_ports = { ${port} }`,
    `c2s_interfaces = { ${lua(LOOPBACK)} }`,
    'c2s_direct_tls_ports = { }',
    's2s_ports = { }',
    's2s_direct_tls_ports = { }',
    'http_ports = { }',
    'https_ports = { }',
    'component_ports = { }',
    'modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "time"; "version"; "uptime" }',
    'modules_disabled = { "s2s" }',
    'authentication = "internal_hashed"',
    'storage = "internal"',
    'allow_registration = false',
    `c2s_require_encryption = ${opts.requireTls ?? true}`,
    's2s_require_encryption = true',
    `certificates = ${lua(join(dir, 'certs'))}`,
    `ssl = { key = ${lua(key)}; certificate = ${lua(cert)} }`,
    `network_settings = {${network}}`,
    `VirtualHost ${lua(domain)}`,
    `  ssl = { key = ${lua(key)}; certificate = ${lua(cert)} }`,
    '',
  ].join('\n');
}

/** Starts a private Prosody; resolves once its c2s port accepts. */
export async function startProsody(opts: ProsodyOptions = {}): Promise<RunningPeer> {
  const version = await packageVersion('prosody', 'prosody');
  const { domain, port, accounts, dir, cleanup } = await peerBasics(opts, 'prosody');
  try {
    const { certPem, keyPem } = createSelfSignedCertificate(domain);
    writeFileSync(join(dir, 'server.crt'), certPem);
    writeFileSync(join(dir, 'server.key'), keyPem, { mode: 0o600 });
    const cfg = join(dir, 'prosody.cfg.lua');
    writeFileSync(cfg, prosodyConfig(dir, port, domain, opts));
    for (const sub of ['data', 'certs']) mkdirSync(join(dir, sub));
    // As root, Prosody runs as its package's user, which must own the directory.
    const user = systemUser('prosody');
    chownTree(dir, user);
    const env = { ...process.env, HOME: dir };
    for (const [name, password] of Object.entries(accounts)) {
      await runTool('prosodyctl', ['--config', cfg, 'register', name, domain, password], { user, env });
    }
    const daemon = startDaemon('prosody', ['--config', cfg, '-F'], { user, env, cwd: dir });
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
      await waitForPort(port, { timeoutMs: opts.startTimeoutMs ?? 60_000, failed: daemon.exitReason });
    } catch (err) {
      await daemon.stop();
      throw new Error(`Prosody did not start: ${(err as Error).message}\n${log()}`);
    }
    let stopped: Promise<void> | undefined;
    return {
      name: 'prosody',
      version,
      host: LOOPBACK,
      port,
      domain,
      pid: daemon.pid,
      dir,
      ca: certPem,
      accounts,
      log,
      stop: () => (stopped ??= daemon.stop().finally(cleanup)),
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
