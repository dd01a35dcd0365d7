/**
 * Deliberately broken variants of the receiving entity, made with `.provide()`: the
 * simulator must catch each within its default run count.
 */
import { enqueueActions } from 'xstate';
import { streamErrorSection, type StreamErrorCondition } from '../../machines/conditions.js';
import type { Command, StreamOutcome } from '../../machines/protocol.js';
import { classifyElement, newStreamId, receivingEntityMachine, responseHeader, streamErrorElementFor } from '../../machines/receiving/index.js';
import type { ReceivingEntityContext, ReceivingEntityEvent } from '../../machines/receiving/index.js';

interface Params {
  readonly condition: StreamErrorCondition;
  readonly text?: string;
  readonly kind?: StreamOutcome['kind'];
}

function streamErrorVariant(bug: { closeTag: boolean; forwardOffendingStanza: boolean }) {
  return enqueueActions(({ context, event, enqueue }: { context: ReceivingEntityContext; event: ReceivingEntityEvent; enqueue: any }, params: Params) => {
    if (!context.headerSent) {
      const id = newStreamId(context.input.random);
      enqueue.assign({ headerSent: true, streamId: id });
      enqueue.emit({ type: 'openStream', header: responseHeader(context.peer, context.input.domain, id) } satisfies Command);
    }
    enqueue.emit({ type: 'send', element: streamErrorElementFor(params.condition, params.text) } satisfies Command);
    if (bug.closeTag) enqueue.emit({ type: 'closeStream' } satisfies Command);
    // The "fail open" bug: the offending stanza is logged and forwarded anyway.
    if (bug.forwardOffendingStanza && event.type === 'ELEMENT' && classifyElement(event.element) === 'stanza') {
      enqueue.emit({ type: 'deliver', stanza: event.element } satisfies Command);
    }
    enqueue.assign({ outcome: { kind: params.kind ?? 'error-sent', rfc: `6120 §${streamErrorSection(params.condition)}`, condition: params.condition } });
  });
}

/** Forgets `</stream:stream>` after a stream error (violates §4.9.1.1). */
export const noCloseTagAfterStreamError = receivingEntityMachine.provide({
  actions: { streamError: streamErrorVariant({ closeTag: false, forwardOffendingStanza: false }) as never },
});

/** Answers a stanza sent before authentication with not-authorized but routes it anyway (violates §4.3.5 / §7.1). */
export const routesBeforeBind = receivingEntityMachine.provide({
  actions: { streamError: streamErrorVariant({ closeTag: true, forwardOffendingStanza: true }) as never },
});

/** Control: the same replacement with the bugs off must pass. */
export const faithfulCopy = receivingEntityMachine.provide({
  actions: { streamError: streamErrorVariant({ closeTag: true, forwardOffendingStanza: false }) as never },
});
