/**
 * Dialback machines on a SimulatedClock, every emitted command recorded in order (the same
 * recorder the stream machines use), with the XEP's domains and secrets as fixtures.
 */
import { createActor, SimulatedClock } from 'xstate';
import { DialbackSecret } from '../../../machines/dialback/key.js';
import { originatingDialback } from '../../../machines/dialback/originating.js';
import { DEFAULT_DIALBACK_POLICY } from '../../../machines/dialback/policy.js';
import { receivingDialback } from '../../../machines/dialback/receiving.js';
import type { OriginatingDialbackInput, ReceivingDialbackInput } from '../../../machines/dialback/types.js';
import { recordCommands, type Recorder } from '../recorder.js';

/** XEP-0220 §2 assumptions: capulet.example initiates towards montague.example. */
export const SENDER = 'capulet.example';
export const TARGET = 'montague.example';
/** The stream ID of montague's response header to capulet in §2.1.1's key example. */
export const STREAM_ID = 'D60000229F';
export const CAPULET_SECRET = 's3cr3tf0rd14lb4ck';
export const TIMEOUT = 30_000;

export function originating(overrides: Partial<OriginatingDialbackInput> = {}): Recorder<typeof originatingDialback> {
  const clock = new SimulatedClock();
  const input: OriginatingDialbackInput = {
    from: SENDER,
    to: TARGET,
    streamId: STREAM_ID,
    secret: new DialbackSecret(CAPULET_SECRET),
    dialbackTimeout: TIMEOUT,
    ...overrides,
  };
  return recordCommands(createActor(originatingDialback, { input, clock }), clock);
}

export function receiving(overrides: Partial<ReceivingDialbackInput> = {}): Recorder<typeof receivingDialback> {
  const clock = new SimulatedClock();
  const input: ReceivingDialbackInput = {
    streamId: STREAM_ID,
    hosted: [TARGET, 'chat.montague.example'],
    secured: true,
    pairsOnStream: 0,
    policy: { ...DEFAULT_DIALBACK_POLICY, dialbackTimeout: TIMEOUT },
    ...overrides,
  };
  return recordCommands(createActor(receivingDialback, { input, clock }), clock);
}

/** The actor's output once done (a DialbackOutcome). */
export function outputOf(r: Recorder<typeof originatingDialback> | Recorder<typeof receivingDialback>): unknown {
  return (r.actor.getSnapshot() as { output?: unknown }).output;
}
