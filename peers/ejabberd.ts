/**
 * A private ejabberd (Debian's package) for interop tests: its own config, Mnesia spool,
 * logs, Erlang cookie and certificate under a fresh temp directory, client-to-server on
 * 127.0.0.1 (or the `bind` address), s2s only when asked for (then with Server Dialback,
 * XEP-0220), SCRAM-stored accounts, no traffic shaper unless asked for. The node runs
 * in the foreground (`ejabberdctl foreground`) as our child, inside a network namespace
 * when asked; its Erlang distribution
 * listens on a second free loopback port, without epmd, so that `ejabberdctl register`
 * can reach it. Stopped by the PID of the Erlang VM (the pid file ejabberd writes) and of
 * our child. Never the system service.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { freePort, LOOPBACK, waitForPort } from './ports.js';

export interface EjabberdOptions extends PeerOptions {
  /** A c2s traffic shaper in bytes/s; default none (ejabberd's own config ships one). */
  readonly shaperBytesPerSecond?: number;
  /** Erlang distribution port on 127.0.0.1; default: a free one. */
  readonly distPort?: number;
  readonly logLevel?: 'debug' | 'info' | 'warning' | 'error';
}

/** YAML string literal (JSON is YAML). */
function yaml(s: string): string {
  return JSON.stringify(s);
}

/**
 * The s2s parts: a listener on `bind`, STARTTLS offered and used but not required
 * (`optional`, §5.3.1), and mod_s2s_dialback so a peer whose self-signed certificate does
 * not verify is authenticated by dialback (XEP-0220) instead (RFC 6120 §13.7.2.1).
 */
function s2sParts(bind: string, opts: EjabberdOptions): { listen: string[]; access: string[]; global: string[]; modules: string[] } {
  const s2s = s2sSettings(opts);
  if (s2s === undefined) return { listen: [], access: [], global: ['s2s_access: none'], modules: [] };
  return {
    access: ['  s2s:', '    allow: all'],
    listen: ['  -', `    port: ${s2s.port}`, `    ip: ${yaml(bind)}`, '    module: ejabberd_s2s_in', '    max_stanza_size: 524288'],
    global: [
      's2s_access: s2s',
      's2s_use_starttls: optional',
      // The test network has no IPv6 addresses: ask only for A records (RFC 6120 §3.2.2 leaves the family open).
      'outgoing_s2s_families:',
      '  - ipv4',
    ],
    modules: ['  mod_s2s_dialback: {}'],
  };
}

export function ejabberdConfig(dir: string, port: number, domain: string, opts: EjabberdOptions): string {
  const shaper = opts.shaperBytesPerSecond;
  const bind = opts.bind ?? LOOPBACK;
  const s2s = s2sParts(bind, opts);
  return [
    '# written by peers/ejabberd.ts',
    `loglevel: ${opts.logLevel ?? 'info'}`,
    'log_rotate_count: 0',
    'hosts:',
    `  - ${yaml(domain)}`,
    'certfiles:',
    `  - ${yaml(join(dir, 'server.pem'))}`,
    // A private CA: the anchor ejabberd verifies peer servers' certificates against (SASL EXTERNAL, XEP-0178).
    ...(opts.certificate !== undefined ? [`ca_file: ${yaml(join(dir, 'ca.pem'))}`] : []),
    ...(shaper !== undefined ? ['shaper:', `  c2s_rate: ${shaper}`] : []),
    'listen:',
    '  -',
    `    port: ${port}`,
    `    ip: ${yaml(bind)}`,
    '    module: ejabberd_c2s',
    '    max_stanza_size: 262144',
    '    access: c2s',
    ...(shaper !== undefined ? ['    shaper: c2s_rate'] : []),
    `    starttls_required: ${opts.requireTls ?? true}`,
    ...s2s.listen,
    'auth_method: internal',
    'auth_password_format: scram',
    'disable_sasl_mechanisms:',
    '  - "digest-md5"',
    '  - "X-OAUTH2"',
    'acl:',
    '  local:',
    '    user_regexp: ""',
    'access_rules:',
    '  local:',
    '    allow: local',
    '  c2s:',
    '    allow: all',
    ...s2s.access,
    ...s2s.global,
    'modules:',
    '  mod_disco: {}',
    '  mod_ping: {}',
    '  mod_roster: {}',
    '  mod_version: {}',
    '  mod_time: {}',
    '  mod_stream_mgmt: {}',
    ...s2s.modules,
    '',
  ].join('\n');
}

/** Starts a private ejabberd; resolves once its c2s port accepts and the accounts exist. */
export async function startEjabberd(opts: EjabberdOptions = {}): Promise<RunningPeer> {
  const version = await packageVersion('ejabberd', 'ejabberdctl');
  const { domain, host, port, accounts, dir, cleanup } = await peerBasics(opts, 'ejabberd');
  const s2s = s2sSettings(opts);
  const netns = opts.netns;
  const distPort = opts.distPort ?? (await freePort());
  try {
    const { certPem, keyPem } = opts.certificate ?? createSelfSignedCertificate(domain);
    const ca = opts.certificate?.caPem ?? certPem;
    writeFileSync(join(dir, 'server.pem'), `${certPem}${keyPem}`, { mode: 0o600 });
    if (opts.certificate !== undefined) writeFileSync(join(dir, 'ca.pem'), opts.certificate.caPem);
    for (const sub of ['spool', 'logs', 'modules.d']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'ejabberd.yml'), ejabberdConfig(dir, port, domain, opts));
    // The node name has no dot (short names); its distribution port is fixed, so no epmd.
    const node = `xmppkit${port}@localhost`;
    writeFileSync(
      join(dir, 'ejabberdctl.cfg'),
      [
        `ERLANG_NODE=${node}`,
        `INET_DIST_INTERFACE=${LOOPBACK}`,
        `ERL_EPMD_ADDRESS=${LOOPBACK}`,
        `ERL_DIST_PORT=${distPort}`,
        'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"',
        `EJABBERD_PID_PATH=${join(dir, 'ejabberd.pid')}`,
        `CONTRIB_MODULES_CONF_DIR=${join(dir, 'modules.d')}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'inetrc'), existsSync('/etc/ejabberd/inetrc') ? readFileSync('/etc/ejabberd/inetrc') : '{lookup,["file","native"]}.\n');
    // As root, ejabberdctl would su to the package's user; we run it as that user ourselves,
    // so the child is the shell that runs the VM, not su. HOME holds our own Erlang cookie.
    const user = systemUser('ejabberd');
    chownTree(dir, user);
    const env = { ...process.env, HOME: dir };
    const ctl = (...args: string[]): string[] => [
      '--config-dir', dir,
      '--ctl-config', join(dir, 'ejabberdctl.cfg'),
      '--config', join(dir, 'ejabberd.yml'),
      '--logs', join(dir, 'logs'),
      '--spool', join(dir, 'spool'),
      '--node', node,
      ...args,
    ];
    const daemon = startDaemon('ejabberdctl', ctl('foreground'), { user, env, cwd: dir, netns });
    const log = (): string => {
      let file = '';
      try {
        file = readFileSync(join(dir, 'logs', 'ejabberd.log'), 'utf8');
      } catch {
        // not written yet
      }
      return `${file}${daemon.output()}`.slice(-8192);
    };
    const vmPid = (): number | undefined => {
      try {
        const pid = Number(readFileSync(join(dir, 'ejabberd.pid'), 'utf8').trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    };
    // The Erlang VM first (it shuts down cleanly on SIGTERM), then our child, which exits with it.
    const stopDaemon = (): Promise<void> => daemon.stop(vmPid() ?? daemon.pid, 15_000);
    try {
      const wait = { host, netns, timeoutMs: opts.startTimeoutMs ?? 60_000, failed: daemon.exitReason };
      await waitForPort(port, wait);
      if (s2s !== undefined) await waitForPort(s2s.port, wait);
      for (const [name, password] of Object.entries(accounts)) {
        await runTool('ejabberdctl', ctl('register', name, domain, password), { user, env, cwd: dir, netns });
      }
    } catch (err) {
      await stopDaemon();
      throw new Error(`ejabberd did not start: ${(err as Error).message}\n${log()}`);
    }
    let stopped: Promise<void> | undefined;
    return {
      name: 'ejabberd',
      version,
      host,
      port,
      ...(netns !== undefined && { netns }),
      ...(s2s !== undefined && { s2sPort: s2s.port }),
      domain,
      pid: vmPid() ?? daemon.pid,
      dir,
      ca,
      accounts,
      log,
      stop: () => (stopped ??= stopDaemon().finally(cleanup)),
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
