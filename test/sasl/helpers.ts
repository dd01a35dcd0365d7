/** Test helpers: a seeded byte source and a driver that runs a whole client↔server exchange. */
import { createHash } from 'node:crypto';
import {
  clientChallenge,
  clientStart,
  clientSuccess,
  decodeSaslData,
  encodeSaslData,
  serverResponse,
  serverStart,
  serverWithCredentials,
  type MechanismName,
  type SaslState,
  type SaslContext,
  type ServerStep,
  type StoredCredentials,
} from '../../machines/sasl/index.js';

/** Deterministic RandomBytes: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

/** States cross JSON on every step, as they would when kept in machine context and snapshotted. */
function viaJson(s: SaslState): SaslState {
  const scalarsOnly = (v: unknown): boolean =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ||
    (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(scalarsOnly));
  if (!scalarsOnly(s)) throw new Error(`SASL state is not plain JSON: ${String(s)}`);
  return JSON.parse(JSON.stringify(s)) as SaslState;
}

export const text = (b: Uint8Array | undefined): string => (b === undefined ? '<none>' : Buffer.from(b).toString('utf8'));
export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

export interface Outcome {
  /** The server's final step. */
  readonly server: ServerStep;
  /** The client's verdict on success (undefined when the server failed). */
  readonly client?: { ok: true } | { ok: false; reason: string };
  /** Every SASL element as it would appear on the wire (base 64 text). */
  readonly wire: string[];
  readonly lookedUp?: string;
}

/**
 * Run an exchange the way the two machines will: all data crosses as base 64 text
 * (RFC 6120 §6.4.2), the server looks the user name up in `accounts`.
 */
export function exchange(opts: {
  mechanism: MechanismName;
  creds: { username: string; password: string; authzid?: string };
  accounts: (username: string) => StoredCredentials | null;
  clientCtx: SaslContext;
  serverCtx: SaslContext;
  initialResponse?: boolean;
  tamper?: (direction: 'c2s' | 's2c', wire: string, index: number) => string;
}): Outcome {
  const wire: string[] = [];
  let n = 0;
  const send = (direction: 'c2s' | 's2c', data: Uint8Array): Uint8Array => {
    let t = encodeSaslData(data);
    if (opts.tamper) t = opts.tamper(direction, t, n);
    n++;
    wire.push(`${direction}:${t}`);
    const decoded = decodeSaslData(t);
    if (decoded === undefined) throw new Error(`bad base64 on the wire: ${t}`);
    return decoded;
  };
  const c0 = clientStart(opts.mechanism, opts.creds, opts.clientCtx);
  if (c0.kind !== 'respond') throw new Error(`client refused to start: ${c0.reason}`);
  let clientState = viaJson(c0.state);
  let step =
    opts.initialResponse === false
      ? serverStart(opts.mechanism, undefined, opts.serverCtx)
      : serverStart(opts.mechanism, send('c2s', c0.data), opts.serverCtx);
  let lookedUp: string | undefined;
  for (let guard = 0; guard < 10; guard++) {
    switch (step.kind) {
      case 'lookup':
        lookedUp = step.username;
        step = serverWithCredentials(viaJson(step.state), opts.accounts(step.username), opts.serverCtx);
        break;
      case 'challenge': {
        const c = clientChallenge(viaJson(clientState), send('s2c', step.data), opts.clientCtx);
        if (c.kind === 'error') return { server: step, client: { ok: false, reason: c.reason }, wire, lookedUp };
        clientState = viaJson(c.state);
        step = serverResponse(viaJson(step.state), send('c2s', c.data), opts.serverCtx);
        break;
      }
      case 'success': {
        const extra = step.additionalData === undefined ? undefined : send('s2c', step.additionalData);
        return { server: step, client: clientSuccess(clientState, extra), wire, lookedUp };
      }
      case 'failure':
        return { server: step, wire, lookedUp };
    }
  }
  throw new Error('exchange did not terminate');
}
