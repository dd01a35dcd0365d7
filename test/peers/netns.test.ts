/**
 * The test network harness (peers/netns.ts) on its own: namespaces named by prefix and PID,
 * a bridge, addresses and no default route; dnsmasq answering A and SRV records for .test
 * inside every namespace (glibc, Python and Node resolvers) and nothing else; processes
 * started inside a host; teardown, the exit handler and the stale cleanup leaving nothing.
 * No root, ip or dnsmasq → the suite fails with the reason; it is never skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStale, createTestNetwork, NETNS_PREFIX, type TestNetwork } from '../../peers/netns.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

let net: TestNetwork | undefined;
const outside = { addr: '', resolv: '' };

beforeAll(async () => {
  outside.addr = execFileSync('ip', ['-br', 'addr'], { encoding: 'utf8' });
  outside.resolv = readFileSync('/etc/resolv.conf', 'utf8');
  net = await createTestNetwork({
    hosts: [
      { name: 'a', domains: ['a.test'] },
      { name: 'b', domains: ['b.test', 'muc.b.test'] },
    ],
    srv: [
      { service: 'xmpp-server', domain: 'b.test', target: 'b.test', port: 5269 },
      { service: 'xmpp-client', domain: 'b.test', target: 'b.test', port: 5222, priority: 5, weight: 10 },
    ],
  });
});

afterAll(async () => {
  await net?.teardown();
});

const gone = (ns: string): boolean => !existsSync(`/run/netns/${ns}`) && !existsSync(`/etc/netns/${ns}`);
/** Running, not a zombie: a killed orphan stays in /proc until PID 1 reaps it. */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function nodeChild(args: string[]): { namespaces: string[]; pids: number[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'netns-child.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  const line = r.stdout.split('\n')[0];
  if (!line) throw new Error(`netns-child.ts ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(line) as { namespaces: string[]; pids: number[] };
}

describe('test network (peers/netns.ts)', () => {
  it('makes one namespace per host and a switch, named by prefix and PID, each host on the subnet with no default route', async () => {
    expect(net!.id).toMatch(new RegExp(`^${NETNS_PREFIX}${process.pid}-\\d+$`));
    expect(net!.hosts.map((h) => [h.name, h.ns, h.address])).toEqual([
      ['a', `${net!.id}-a`, '10.213.0.10'],
      ['b', `${net!.id}-b`, '10.213.0.11'],
    ]);
    for (const ns of [net!.switchNs, ...net!.hosts.map((h) => h.ns)]) expect(existsSync(`/run/netns/${ns}`)).toBe(true);
    const routes = (await net!.exec('a', 'ip', ['route'])).stdout;
    expect(routes.trim().split('\n')).toEqual([expect.stringMatching(/^10\.213\.0\.0\/24 dev eth0 .*src 10\.213\.0\.10/)]);
    // A route lookup for any other address fails inside: no packet could leave the network.
    await expect(net!.exec('a', 'ip', ['route', 'get', '198.51.100.1'])).rejects.toThrow(/unreachable/i);
    // The machine's own interfaces and resolver are as they were.
    expect(execFileSync('ip', ['-br', 'addr'], { encoding: 'utf8' })).toBe(outside.addr);
    expect(readFileSync('/etc/resolv.conf', 'utf8')).toBe(outside.resolv);
  });

  it('every host resolves through dnsmasq alone: its own resolv.conf, A records by glibc and Python, SRV by Node', async () => {
    expect((await net!.exec('a', 'cat', ['/etc/resolv.conf'])).stdout).toMatch(new RegExp(`^nameserver ${net!.dns.replace(/\./g, '\\.')}$`, 'm'));
    expect((await net!.exec('a', 'getent', ['hosts', 'b.test'])).stdout).toMatch(/^10\.213\.0\.11\s+b\.test$/m);
    expect((await net!.exec('b', 'getent', ['hosts', 'a.test'])).stdout).toMatch(/^10\.213\.0\.10\s+a\.test$/m);
    expect((await net!.exec('a', 'getent', ['hosts', 'muc.b.test'])).stdout).toMatch(/^10\.213\.0\.11\s/);
    const py = await net!.exec('a', 'python3', ['-c', 'import socket; print(socket.getaddrinfo("b.test", 5269, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])']);
    expect(py.stdout.trim()).toBe('10.213.0.11');
    const js = `require('node:dns').promises.resolveSrv(process.argv[1]).then((r) => console.log(JSON.stringify(r)))`;
    const srv = async (name: string): Promise<unknown> => JSON.parse((await net!.exec('a', process.execPath, ['-e', js, name])).stdout);
    expect(await srv('_xmpp-server._tcp.b.test')).toEqual([{ name: 'b.test', port: 5269, priority: 0, weight: 0 }]);
    expect(await srv('_xmpp-client._tcp.b.test')).toEqual([{ name: 'b.test', port: 5222, priority: 5, weight: 10 }]);
    expect(net!.dnsLog()).toMatch(/query\[SRV\] _xmpp-server\._tcp\.b\.test from 10\.213\.0\.10/);
  });

  it('answers nothing else: an unknown .test name and any name outside .test fail, and nothing is forwarded', async () => {
    // getent's exit code 2: the key was not found.
    await expect(net!.exec('a', 'getent', ['hosts', 'c.test'])).rejects.toMatchObject({ code: 2 });
    await expect(net!.exec('a', 'getent', ['hosts', 'example.com'])).rejects.toMatchObject({ code: 2 });
    expect(net!.dnsLog()).toMatch(/config c\.test is NXDOMAIN/);
    expect(net!.dnsLog()).toMatch(/query\[A\] example\.com from 10\.213\.0\.10\n.*REFUSED/);
    expect(net!.dnsLog()).toMatch(/no upstream servers configured/);
    expect(net!.dnsLog()).not.toMatch(/forwarded/);
  });

  it('runs processes inside a host: one listens on b, another reaches it by name from a', async () => {
    const server = net!.spawn('b', process.execPath, [
      '-e',
      `require('node:net').createServer((s) => s.end('hello from b\\n')).listen(7000, '10.213.0.11', () => console.log('listening'))`,
    ]);
    await new Promise<void>((r) => server.stdout!.once('data', () => r()));
    const js = `const s = require('node:net').connect(7000, 'b.test'); s.on('data', (d) => process.stdout.write(d));`;
    expect((await net!.exec('a', process.execPath, ['-e', js])).stdout).toBe('hello from b\n');
    server.kill();
  });

  it('teardown kills what it started by PID and deletes the namespaces and /etc/netns dirs', async () => {
    const sleeper = net!.spawn('a', 'sleep', ['60']);
    const nss = [net!.switchNs, ...net!.hosts.map((h) => h.ns)];
    const dnsmasq = execFileSync('ip', ['netns', 'pids', net!.switchNs], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    expect(dnsmasq.length).toBe(1);
    await net!.teardown();
    expect(alive(sleeper.pid!)).toBe(false);
    expect(alive(dnsmasq[0]!)).toBe(false);
    for (const ns of nss) expect(gone(ns)).toBe(true);
  });

  it('a process that exits without teardown still leaves nothing (the exit handler)', () => {
    const { namespaces, pids } = nodeChild(['exit']);
    expect(namespaces).toHaveLength(2);
    for (const ns of namespaces) expect(gone(ns)).toBe(true);
    expect(pids).toHaveLength(1);
    expect(pids.some(alive)).toBe(false);
  });

  it('after a crash (SIGKILL), the next run removes the namespaces of the dead PID and what runs in them', async () => {
    const prefix = `${NETNS_PREFIX}crash`;
    const { namespaces, pids } = nodeChild(['crash', prefix]);
    for (const ns of namespaces) expect(existsSync(`/run/netns/${ns}`)).toBe(true);
    expect(pids.every(alive)).toBe(true);
    expect(cleanupStale(prefix).sort()).toEqual([...namespaces].sort());
    for (const ns of namespaces) expect(gone(ns)).toBe(true);
    expect(pids.some(alive)).toBe(false);
  });
});
