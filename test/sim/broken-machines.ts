/**
 * Deliberately broken variants of the stream machines, made with `.provide()`: the
 * simulator must catch each within its default run count.
 */
import { assign, enqueueActions } from 'xstate';
import { streamErrorSection, type StreamErrorCondition } from '../../machines/conditions.js';
import { initiatingEntityMachine, startStep, type InitiatingEntityContext } from '../../machines/initiating/index.js';
import { NS } from '../../machines/ns.js';
import type { Command, StreamOutcome } from '../../machines/protocol.js';
import { child, childElements, text, type XmlElement } from '../../machines/xml.js';
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

/**
 * A client that forgets it requires TLS: when the server offers no STARTTLS it
 * authenticates anyway (violates §5.3.1 / §13.9.4: credentials cross in clear).
 */
export const clientIgnoresTlsRequirement = initiatingEntityMachine.provide({
  actions: {
    // Chooses the first offered mechanism of its list, secured or not.
    beginAuth: assign(({ context, event }: { context: InitiatingEntityContext; event: { type: string; element?: XmlElement } }) => {
      const mechanisms = event.element && child(event.element, 'mechanisms', NS.SASL);
      const offered = mechanisms ? childElements(mechanisms).map((m) => text(m)) : [];
      const mechanism = context.input.mechanisms.find((m) => offered.includes(m));
      if (mechanism === undefined || context.identity === undefined) return { saslStep: { kind: 'unusable' as const, reason: 'no mechanism' } };
      const step = startStep(mechanism, context.identity, { password: context.input.password }, context.input.initialResponse !== false, { random: context.input.random });
      return { mechanism, saslStep: step };
    }) as never,
  },
  guards: {
    featuresTlsUnavailable: () => false,
    featuresSasl: ({ event }: { event: { type: string; element?: XmlElement } }) =>
      event.type === 'ELEMENT' && event.element !== undefined && event.element.name === 'features' && child(event.element, 'mechanisms', NS.SASL) !== undefined,
  } as never,
});
