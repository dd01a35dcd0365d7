/**
 * `SessionDriver<M>` is typed by its machine: `send` takes that machine's events, `input` its
 * input, and the machine must accept every event the driver sends itself (TransportEvent).
 * These checks run in `tsc --noEmit` (each `@ts-expect-error` line must be an error there);
 * at run time the tests only build the drivers.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { setup } from 'xstate';
import { initiatingEntityMachine, type InitiatingEntityMachine } from '../../machines/initiating/index.js';
import { DEFAULT_CLIENT_POLICY, DEFAULT_SERVER_POLICY } from '../../machines/policy.js';
import type {
  ClientStreamEvent,
  FailEvent,
  InitiatingEntityInput,
  ReceivingEntityInput,
  ServerStreamEvent,
} from '../../machines/protocol.js';
import { receivingEntityMachine, type ReceivingEntityMachine } from '../../machines/receiving/index.js';
import { el } from '../../machines/xml.js';
import { SessionDriver, type SessionDriverOptions } from '../../runtime/session/driver.js';

const transport = { write: () => undefined, startTls: () => undefined, close: () => undefined };
const random = (n: number) => new Uint8Array(n);
const serverInput: ReceivingEntityInput = { ...DEFAULT_SERVER_POLICY, domain: 'localhost', random };
const clientInput: InitiatingEntityInput = { ...DEFAULT_CLIENT_POLICY, jid: 'alice@localhost', password: 'x', random };

const server = () => new SessionDriver({ machine: receivingEntityMachine, input: serverInput, transport });
const client = () => new SessionDriver({ machine: initiatingEntityMachine, input: clientInput, transport });

describe('SessionDriver<M>: events and input of its machine (compile time)', () => {
  it('infers the machine from the options', () => {
    expectTypeOf(server()).toEqualTypeOf<SessionDriver<ReceivingEntityMachine>>();
    expectTypeOf(client()).toEqualTypeOf<SessionDriver<InitiatingEntityMachine>>();
  });

  it('send takes exactly the contract events of the machine (FAIL included on the server)', () => {
    expectTypeOf(server().send).parameter(0).toEqualTypeOf<ServerStreamEvent>();
    expectTypeOf(client().send).parameter(0).toEqualTypeOf<ClientStreamEvent>();
    expectTypeOf<FailEvent>().toExtend<ServerStreamEvent>();
    expectTypeOf<ReceivingEntityInput['maxBindAttempts']>().toEqualTypeOf<number | undefined>();
  });

  it('a misspelt event, a missing field or another machine’s event does not compile', () => {
    const s = server();
    const c = client();
    s.send({ type: 'SHUTDOWN' });
    s.send({ type: 'FAIL', condition: 'see-other-host', text: 'other.example' });
    c.send({ type: 'SEND', stanza: el('presence', 'jabber:client') });
    // @ts-expect-error misspelt event name
    s.send({ type: 'SHUTDWON' });
    // @ts-expect-error ROUTE_IN needs its stanza
    s.send({ type: 'ROUTE_IN' });
    // @ts-expect-error not a stream error condition (§4.9.3)
    s.send({ type: 'FAIL', condition: 'no-such-condition' });
    // @ts-expect-error SEND is the client's event, not the server's
    s.send({ type: 'SEND', stanza: el('presence', 'jabber:client') });
    // @ts-expect-error SHUTDOWN is the server's event, not the client's
    c.send({ type: 'SHUTDOWN' });
  });

  it('the input must be the machine’s input', () => {
    // @ts-expect-error the client's input handed to the server machine
    new SessionDriver({ machine: receivingEntityMachine, input: clientInput, transport });
    // @ts-expect-error the server's policy handed to the client machine
    new SessionDriver({ machine: initiatingEntityMachine, input: serverInput, transport });
    // @ts-expect-error maxBindAttempts is a number
    new SessionDriver({ machine: receivingEntityMachine, input: { ...serverInput, maxBindAttempts: 'five' }, transport });
    expectTypeOf<SessionDriverOptions<ReceivingEntityMachine>['input']>().toEqualTypeOf<ReceivingEntityInput>();
  });

  it('a machine that does not take the driver’s own events (TransportEvent) is refused', () => {
    const deaf = setup({ types: { events: {} as { type: 'HEADER' } | { type: 'PING' } } }).createMachine({});
    // @ts-expect-error the machine lacks ELEMENT, SOCKET_CLOSED, TLS_ESTABLISHED, ...
    new SessionDriver({ machine: deaf, input: undefined, transport });
  });
});
