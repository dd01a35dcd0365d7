/**
 * A process that makes a test network (peers/netns.ts) and ends without teardown(), for
 * test/peers/netns.test.ts: `exit` leaves by process.exit (the network's exit handler must
 * clean up), `crash` by SIGKILL (nothing runs; the next cleanupStale must). It prints the
 * network's namespaces and dnsmasq's PID as one JSON line first.
 */
import { execFileSync } from 'node:child_process';
import { createTestNetwork } from '../../peers/netns.js';

const [how, prefix] = process.argv.slice(2);
const net = await createTestNetwork({ hosts: [{ name: 'a', domains: ['a.test'] }], ...(prefix !== undefined && { prefix }) });
const pids = execFileSync('ip', ['netns', 'pids', net.switchNs], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
process.stdout.write(`${JSON.stringify({ namespaces: [net.switchNs, ...net.hosts.map((h) => h.ns)], pids })}\n`);
if (how === 'crash') process.kill(process.pid, 'SIGKILL');
else process.exit(0);
