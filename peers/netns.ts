/**
 * A private multi-host test network for server-to-server interop (RFC 6120 §3.2, §13.7.2):
 * one network namespace per host, all joined by veth pairs to a bridge inside a "switch"
 * namespace, which also runs dnsmasq, the only DNS server of the network, answering for
 * `.test` (RFC 6761 §6.2: reserved for testing) with A and SRV records and for nothing else.
 *
 *   host a (ns xmppkit-<pid>-<n>-a)  eth0 10.213.0.10 ─┐
 *   host b (ns xmppkit-<pid>-<n>-b)  eth0 10.213.0.11 ─┼─ br0 10.213.0.1 + dnsmasq :53 (ns ...-switch)
 *   ...                                                ─┘
 *
 * Nothing touches the machine's own interfaces or /etc/resolv.conf: every link and address
 * lives in a namespace made here, there is no default route (only the subnet is reachable),
 * and each host's resolver is /etc/netns/<ns>/resolv.conf, which `ip netns exec` mounts over
 * /etc/resolv.conf for that process alone. teardown() stops what was started, by PID, and
 * deletes the namespaces and /etc/netns dirs; a process exit does the same, and the next
 * network cleans up after an earlier run that crashed (cleanupStale).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inNamespace, listensIn, type RunAs } from './nsexec.js';

const execFileP = promisify(execFile);

/** Every namespace made here is named PREFIX<pid>-<n>-<host>. */
export const NETNS_PREFIX = 'xmppkit-';

export interface HostSpec {
  /** Short name: lowercase letters and digits, at most 10 (it ends the namespace's name). */
  readonly name: string;
  /** Domains whose A record is this host's address, e.g. ['b.test', 'conference.b.test']. */
  readonly domains: readonly string[];
}

/** An SRV record (RFC 2782), `_service._proto.domain` → target:port, as RFC 6120 §3.2.1 looks it up. */
export interface SrvRecord {
  /** 'xmpp-server' (§3.2.2) or 'xmpp-client' (§3.2.1). */
  readonly service: string;
  /** Default 'tcp'. */
  readonly proto?: 'tcp' | 'udp';
  /** The domain asked about, e.g. 'b.test'. */
  readonly domain: string;
  /** The host name answered, which must have an A record here; '.' says "no such service here" (RFC 2782). */
  readonly target: string;
  readonly port: number;
  /** Default 0. */
  readonly priority?: number;
  /** Default 0. */
  readonly weight?: number;
}

export interface TestNetworkOptions {
  readonly hosts: readonly HostSpec[];
  readonly srv?: readonly SrvRecord[];
  /** The /24 to number from, as its first three octets; default '10.213.0' (private, RFC 1918). */
  readonly subnet?: string;
  /** Namespace name prefix; default NETNS_PREFIX. */
  readonly prefix?: string;
}

export interface NetHost {
  readonly name: string;
  /** Its network namespace. */
  readonly ns: string;
  /** Its address on the test network. */
  readonly address: string;
  readonly domains: readonly string[];
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

export interface NsRunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Run as this user inside the namespace (setpriv); default root. */
  readonly user?: RunAs;
  /** exec only: kill after this long; default 30 s. */
  readonly timeoutMs?: number;
}

export interface TestNetwork {
  /** PREFIX<pid>-<n>: the start of every namespace name of this network. */
  readonly id: string;
  /** The namespace holding the bridge and dnsmasq. */
  readonly switchNs: string;
  /** The DNS server's address (the bridge's), in every host's resolv.conf. */
  readonly dns: string;
  readonly hosts: readonly NetHost[];
  host(name: string): NetHost;
  /** Runs a command inside a host's namespace to completion; rejects with its output (and exit `code`) when it fails. */
  exec(host: string, command: string, args: readonly string[], opts?: NsRunOptions): Promise<ExecResult>;
  /** Starts a command inside a host's namespace; teardown() kills it by PID if it still runs. */
  spawn(host: string, command: string, args: readonly string[], opts?: NsRunOptions & Pick<SpawnOptions, 'stdio'>): ChildProcess;
  /** dnsmasq's log so far (queries included), for failure messages. */
  dnsLog(): string;
  /** Kills what was started (by PID), deletes the namespaces and /etc/netns dirs. Idempotent. */
  teardown(): Promise<void>;
}

let sequence = 0;
const ETC_NETNS = '/etc/netns';
/** Left in /etc/netns when this harness made it, so the last network to go (in any process) removes it again. */
const MADE_HERE = join(ETC_NETNS, '.made-by-xmppkit');

/** /etc/netns/<ns>, made (with /etc/netns when missing; a parallel run may be making or removing it too). */
function etcDir(ns: string): string {
  const dir = join(ETC_NETNS, ns);
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(ETC_NETNS);
      writeFileSync(MADE_HERE, 'made by peers/netns.ts; removed with the last test network\n');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      // ENOENT: another run removed an empty /etc/netns in between; make it again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/** Removes /etc/netns if this harness made it and no namespace dir is left in it. */
function removeEtcNetns(): void {
  if (!existsSync(MADE_HERE) || readdirSync(ETC_NETNS).length !== 1) return;
  rmSync(MADE_HERE, { force: true });
  try {
    rmdirSync(ETC_NETNS);
  } catch {
    // a parallel run put its namespace dir there meanwhile: it removes /etc/netns later
    writeFileSync(MADE_HERE, 'made by peers/netns.ts; removed with the last test network\n');
  }
}

function ip(...args: string[]): Promise<unknown> {
  return execFileP('ip', args).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`ip ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Names of the namespaces `ip netns` knows now (its mount points in /run/netns). */
function namespaces(): string[] {
  const dir = '/run/netns';
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** PIDs of the processes inside namespace `ns` (`ip netns pids`). */
function pidsIn(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
      .split('\n')
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0);
  } catch {
    return [];
  }
}

/**
 * Removes namespace `ns` synchronously (so an exit handler can do it): what still runs
 * inside it is killed by PID first (only processes of this harness run in a namespace it
 * made), then the namespace and its /etc/netns dir go.
 */
function removeNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) killQuietly(pid, 'SIGKILL');
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
}

/**
 * Cleans up after earlier runs that crashed: every namespace (and /etc/netns dir) named
 * `prefix<pid>-...` whose pid no longer lives. Returns the names removed.
 */
export function cleanupStale(prefix = NETNS_PREFIX): string[] {
  const owned = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)-`);
  const stale = (name: string): boolean => {
    const m = owned.exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  };
  const names = new Set([...namespaces(), ...(existsSync(ETC_NETNS) ? readdirSync(ETC_NETNS) : [])].filter(stale));
  for (const ns of names) removeNamespace(ns);
  if (existsSync(ETC_NETNS)) removeEtcNetns();
  return [...names];
}

/** The dnsmasq configuration: this network's records, nothing forwarded anywhere. */
export function dnsmasqConfig(opts: { listen: string; hosts: readonly NetHost[]; srv: readonly SrvRecord[] }): string {
  return [
    '# written by peers/netns.ts',
    'port=53',
    `listen-address=${opts.listen}`,
    'bind-interfaces',
    // No upstream servers and no /etc/hosts of the machine: only what is written here.
    'no-resolv',
    'no-hosts',
    'no-poll',
    // .test is answered from local data alone (a name we lack is NXDOMAIN, never forwarded).
    'local=/test/',
    'domain-needed',
    'bogus-priv',
    'log-queries',
    'log-facility=-',
    ...opts.hosts.flatMap((h) => h.domains.map((d) => `host-record=${d},${h.address}`)),
    ...opts.srv.map((r) =>
      // dnsmasq: an srv-host without a target answers the root, '.' (RFC 2782 "decidedly not available").
      r.target === '.'
        ? `srv-host=_${r.service}._${r.proto ?? 'tcp'}.${r.domain}`
        : `srv-host=_${r.service}._${r.proto ?? 'tcp'}.${r.domain},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`,
    ),
    '',
  ].join('\n');
}

function checkOptions(opts: TestNetworkOptions): void {
  const names = new Set<string>();
  for (const h of opts.hosts) {
    if (!/^[a-z][a-z0-9]{0,9}$/.test(h.name)) throw new Error(`host name '${h.name}': lowercase letters and digits, at most 10`);
    if (h.name === 'switch' || names.has(h.name)) throw new Error(`host name '${h.name}' is taken`);
    names.add(h.name);
  }
  if (opts.hosts.length === 0 || opts.hosts.length > 200) throw new Error('between 1 and 200 hosts');
  const known = new Set(opts.hosts.flatMap((h) => h.domains));
  for (const r of opts.srv ?? []) {
    if (r.target !== '.' && !known.has(r.target)) throw new Error(`SRV target '${r.target}' has no host (RFC 2782: the target must have an A record)`);
  }
}

/** Creates the network and starts its DNS server; resolves once dnsmasq listens. */
export async function createTestNetwork(opts: TestNetworkOptions): Promise<TestNetwork> {
  checkOptions(opts);
  await requireTools();
  const prefix = opts.prefix ?? NETNS_PREFIX;
  cleanupStale(prefix);
  const id = `${prefix}${process.pid}-${sequence++}`;
  const subnet = opts.subnet ?? '10.213.0';
  const dns = `${subnet}.1`;
  const switchNs = `${id}-switch`;
  const hosts: NetHost[] = opts.hosts.map((h, i) => ({ name: h.name, ns: `${id}-${h.name}`, address: `${subnet}.${10 + i}`, domains: [...h.domains] }));
  const made: string[] = [];
  const children = new Set<ChildProcess>();
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  let dnsOut = '';

  const removeAll = (): void => {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) killQuietly(c.pid, 'SIGKILL');
    for (const ns of made.splice(0).reverse()) removeNamespace(ns);
    removeEtcNetns();
    rmSync(dir, { recursive: true, force: true });
  };
  // A test that dies without teardown still leaves nothing behind.
  const onExit = (): void => removeAll();
  process.once('exit', onExit);

  const spawnIn = (ns: string, command: string, args: readonly string[], o: NsRunOptions & Pick<SpawnOptions, 'stdio'> = {}): ChildProcess => {
    const [cmd, argv] = inNamespace(ns, command, args, o.user);
    const child = spawn(cmd, argv, {
      stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'],
      ...(o.env !== undefined && { env: o.env }),
      ...(o.cwd !== undefined && { cwd: o.cwd }),
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  try {
    for (const ns of [switchNs, ...hosts.map((h) => h.ns)]) {
      await ip('netns', 'add', ns);
      made.push(ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', switchNs, 'addr', 'add', `${dns}/24`, 'dev', 'br0');
    await ip('-n', switchNs, 'link', 'set', 'br0', 'up');
    for (const [i, h] of hosts.entries()) {
      // The switch end stays in the switch namespace; the host end is born in the host's.
      await ip('-n', switchNs, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns);
      await ip('-n', switchNs, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
      await ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      await ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
      // Only the subnet's own route: no default route, so nothing leaves the test network.
      const etc = etcDir(h.ns);
      writeFileSync(join(etc, 'resolv.conf'), `# written by peers/netns.ts\nnameserver ${dns}\noptions timeout:1 attempts:2\n`);
      // Only localhost from a file; every .test name must come from DNS.
      writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n');
    }
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(conf, dnsmasqConfig({ listen: dns, hosts, srv: opts.srv ?? [] }));
    const dnsmasq = spawnIn(switchNs, 'dnsmasq', ['--keep-in-foreground', `--conf-file=${conf}`, '--pid-file=', '--user=nobody', '--group=nogroup']);
    const keep = (d: Buffer): void => {
      dnsOut = (dnsOut + d.toString()).slice(-65536);
    };
    dnsmasq.stdout!.on('data', keep);
    dnsmasq.stderr!.on('data', keep);
    const until = Date.now() + 10_000;
    while (!(await listensIn(switchNs, 53, 'udp'))) {
      if (dnsmasq.exitCode !== null || Date.now() > until) throw new Error(`dnsmasq did not start:\n${dnsOut}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    removeAll();
    process.removeListener('exit', onExit);
    throw err;
  }

  const host = (name: string): NetHost => {
    const h = hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host '${name}' on ${id}`);
    return h;
  };
  let torn: Promise<void> | undefined;
  return {
    id,
    switchNs,
    dns,
    hosts,
    host,
    async exec(name, command, args, o = {}) {
      const [cmd, argv] = inNamespace(host(name).ns, command, args, o.user);
      try {
        const { stdout, stderr } = await execFileP(cmd, argv, {
          timeout: o.timeoutMs ?? 30_000,
          ...(o.env !== undefined && { env: o.env }),
          ...(o.cwd !== undefined && { cwd: o.cwd }),
        });
        return { stdout, stderr };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; code?: number | string; message: string };
        throw Object.assign(new Error(`[${name}] ${command} ${args.join(' ')} failed: ${[e.message, e.stdout, e.stderr].filter(Boolean).join('\n')}`), {
          code: e.code,
          stdout: e.stdout ?? '',
          stderr: e.stderr ?? '',
        });
      }
    },
    spawn: (name, command, args, o) => spawnIn(host(name).ns, command, args, o),
    dnsLog: () => dnsOut,
    teardown() {
      return (torn ??= (async () => {
        // SIGTERM first, so each process can close what it holds; SIGKILL for what lingers.
        const live = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
        const exited = live.map((c) => new Promise<void>((r) => c.once('exit', () => r())));
        for (const c of live) if (c.pid !== undefined) killQuietly(c.pid, 'SIGTERM');
        await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 5_000))]);
        removeAll();
        process.removeListener('exit', onExit);
      })());
    },
  };
}

/** ip, dnsmasq and root: without them there is no test network, and that is an error, not a skip. */
async function requireTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('a test network needs root (network namespaces)');
  for (const [command, pkg] of [
    ['ip', 'iproute2'],
    ['ss', 'iproute2'],
    ['dnsmasq', 'dnsmasq-base'],
    ['setpriv', 'util-linux'],
  ] as const) {
    const found = await execFileP('sh', ['-c', `command -v ${command}`]).then(
      () => true,
      () => false,
    );
    if (!found) throw new Error(`'${command}' not found: install Debian's '${pkg}' package (npm run setup, as root)`);
  }
}
