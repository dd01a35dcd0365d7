/**
 * Running an interop peer (a Python or Node script) as a child process: its output collected,
 * killed after 60 s so a stuck peer fails the test instead of hanging it.
 */
import { spawn } from 'node:child_process';

export interface PeerText {
  readonly stdout: string;
  readonly stderr: string;
}
export interface PeerExit extends PeerText {
  readonly code: number | null;
}

export interface PeerOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Called with all stdout so far, after each chunk (e.g. to spot an "online" line). */
  readonly onStdout?: (stdout: string) => void;
}

export interface PeerProcess {
  /** What the peer has written so far. */
  output(): PeerText;
  /** Resolves when the peer exits; rejects if it cannot be started. */
  readonly exited: Promise<PeerExit>;
}

/** Spawns `command args` with stdout and stderr collected. */
export function startPeerProcess(command: string, args: string[], opts: PeerOptions = {}): PeerProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env !== undefined ? { env: opts.env } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onStdout?.(stdout);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<PeerExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { output: () => ({ stdout, stderr }), exited };
}
