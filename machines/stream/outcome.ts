/**
 * How a stream ended (RFC 6120 §4.4, §4.6, §4.9), shared by both stream machines, and the
 * timers and guards whose rule is the same on either side of the stream.
 */
import type { KeepaliveMode, StreamOutcome, Timeouts } from '../protocol.js';

export function outcome(kind: StreamOutcome['kind'], rfc: string, condition?: string, text?: string): StreamOutcome {
  return { kind, rfc, ...(condition !== undefined ? { condition } : {}), ...(text !== undefined ? { text } : {}) };
}

/** What either machine's context holds that the shared rules read. */
export interface StreamContext {
  readonly input: { readonly timeouts: Timeouts; readonly keepalive: KeepaliveMode };
  readonly boundJid: string | undefined;
  readonly outcome: StreamOutcome | undefined;
}
type Args = { readonly context: StreamContext };

/** The machine's output and the `ended` command's outcome: the recorded outcome, else the socket went away (§4.6.1). */
export const streamOutput = ({ context }: Args): StreamOutcome => context.outcome ?? outcome('transport', '6120 §4.6.1');

/** XState delays: every timer is a policy input (§4.6, §4.4 rule 3). */
export const streamDelays = {
  negotiationTimeout: ({ context }: Args) => context.input.timeouts.negotiation,
  idleTimeout: ({ context }: Args) => context.input.timeouts.idle,
  pingTimeout: ({ context }: Args) => context.input.timeouts.pingResponse,
  closeTimeout: ({ context }: Args) => context.input.timeouts.closeWait,
};

/** Guards of the shared rules (§4.6.3 ping or whitespace; §4.4 rule 2 after a graceful close once bound). */
export const streamGuards = {
  pingMode: ({ context }: Args) => context.input.keepalive === 'ping',
  gracefullyClosingBound: ({ context }: Args) => context.boundJid !== undefined && context.outcome?.kind === 'closed',
};
