/**
 * Running a command inside a network namespace: `ip netns exec NS` (which also gives the
 * command the namespace's own /etc/resolv.conf and /etc/hosts from /etc/netns/NS/), then,
 * for a package's system user, `setpriv` to drop from root to that user. Both exec() the
 * next program, so the PID of the child is the PID of the command itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Whom to run as: a uid and gid (the shape of daemon.ts's SystemUser). */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/**
 * The argv that runs `command args` in namespace `ns` as `user`. Entering a namespace needs
 * root (CAP_SYS_ADMIN), so the user is dropped to inside it, not by spawn's uid option.
 */
export function inNamespace(ns: string, command: string, args: readonly string[], user?: RunAs): [string, string[]] {
  const drop = user === undefined ? [] : ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'];
  return ['ip', ['netns', 'exec', ns, ...drop, command, ...args]];
}

/** True when something in namespace `ns` listens on TCP `port` (asked of `ss` there: we cannot connect in from outside). */
export async function listensIn(ns: string, port: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<boolean> {
  const { stdout } = await execFileP('ip', ['netns', 'exec', ns, 'ss', '-Hln', proto === 'tcp' ? '-t' : '-u', `sport = :${port}`]);
  return stdout.trim() !== '';
}
