/**
 * The peer harness with ejabberd (Debian's package, test/harness/ejabberd.ts): a private
 * instance on a free loopback port, our client (runtime/client) logging in as alice over
 * STARTTLS with the instance's certificate pinned, and the instance stopped by its PID with
 * its temp directory gone. No ejabberd → the suite fails with the reason; never skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createClient, type XmppClient } from '../../runtime/client/index.js';
import type { RunningPeer } from '../../peers/daemon.js';
import { startEjabberd } from '../../peers/ejabberd.js';
import { accepts } from '../../peers/ports.js';

let peer: RunningPeer | undefined;
const clients: XmppClient[] = [];

beforeAll(async () => {
  peer = await startEjabberd({ users: { carol: 'secret3' } });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await peer?.stop();
}, 60_000);

function client(jid: string, password: string): XmppClient {
  const c = createClient({ jid, password, host: peer!.host, port: peer!.port, tls: { ca: peer!.ca } });
  clients.push(c);
  return c;
}

describe('private ejabberd (test/harness/ejabberd.ts)', () => {
  it('runs as our child on a loopback port, with STARTTLS required and the accounts asked for', () => {
    expect(peer!.version).toMatch(/^\d+\.\d+/);
    expect(readFileSync(`/proc/${peer!.pid}/cmdline`, 'utf8')).toContain('beam');
    expect(readFileSync(`${peer!.dir}/ejabberd.yml`, 'utf8')).toMatch(/starttls_required: true/);
    expect(readFileSync(`${peer!.dir}/ejabberd.yml`, 'utf8')).not.toMatch(/shaper/);
    expect(peer!.accounts).toEqual({ alice: 'secret1', bob: 'secret2', carol: 'secret3' });
  });

  it('lets alice log in with our client: STARTTLS with the pinned certificate, SCRAM, binding (§5, §6, §7)', async () => {
    const alice = client('alice@localhost', 'secret1');
    const jid = await alice.start();
    expect(jid).toMatch(/^alice@localhost\/.+/);
    expect(alice.mechanism).toMatch(/^SCRAM-SHA-(1|256)(-PLUS)?$/);
    expect(await alice.stop()).toMatchObject({ kind: 'closed', rfc: '6120 §4.4' });
  });

  it('has the extra account, and refuses a wrong password with <not-authorized/> (§6.5.10)', async () => {
    const carol = client('carol@localhost', 'secret3');
    await expect(carol.start()).resolves.toMatch(/^carol@localhost\//);
    await carol.stop();
    const err = (await client('alice@localhost', 'wrong').start().catch((e: unknown) => e)) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.outcome).toMatchObject({ kind: 'auth-failed', condition: 'not-authorized' });
  });

  it('stops by its PID: the process, the port and the temp directory are gone', async () => {
    const { pid, port, dir } = peer!;
    await peer!.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(accepts(port)).resolves.toBe(false);
  }, 60_000);
});
