/**
 * The parser as the SessionDriver uses it (runtime/session/driver.ts): a stub machine that
 * records what it receives and asks for a §4.3.3 restart after `<success/>` and a
 * §5.4.3.3 TLS reset after `<proceed/>`, so the driver's reset paths run against the real parser.
 */
import { describe, expect, it } from 'vitest';
import { enqueueActions, setup } from 'xstate';
import { NS } from '../../machines/ns.js';
import type { Command } from '../../machines/protocol.js';
import type { XmlElement } from '../../machines/xml.js';
import { SessionDriver } from '../../runtime/session/driver.js';
import { HEADER, utf8 } from './helpers.js';

type Ev = { type: string; element?: XmlElement; header?: unknown; condition?: string };

function recorder(seen: string[]) {
  return setup({ types: { events: {} as Ev, emitted: {} as Command } }).createMachine({
    on: {
      '*': {
        actions: enqueueActions(({ event, enqueue }) => {
          seen.push(event.type === 'ELEMENT' ? `ELEMENT:${event.element!.name}` : event.type === 'PARSE_ERROR' ? `PARSE_ERROR:${event.condition}` : event.type);
          if (event.type === 'ELEMENT' && event.element!.name === 'success') enqueue.emit({ type: 'resetParser' });
          if (event.type === 'ELEMENT' && event.element!.name === 'proceed') enqueue.emit({ type: 'startTls' });
        }),
      },
    },
  });
}

function drive() {
  const seen: string[] = [];
  const written: string[] = [];
  const driver = new SessionDriver({
    machine: recorder(seen),
    input: {},
    transport: { write: (t) => written.push(t), startTls: () => undefined, close: () => undefined },
  }).start();
  return { driver, seen };
}

describe('SessionDriver + StreamParser', () => {
  it('§4.3.3: a header pipelined behind <success/> starts the new stream', () => {
    const { driver, seen } = drive();
    driver.receive(utf8(`${HEADER}<success xmlns='${NS.SASL}'/>${HEADER}<iq type='set' id='bind'/>`));
    expect(seen).toEqual(['HEADER', 'ELEMENT:success', 'HEADER', 'ELEMENT:iq']);
  });

  it('§5.4.3.3: plaintext pipelined behind <proceed/> is dropped', () => {
    const { driver, seen } = drive();
    driver.receive(utf8(`${HEADER}<proceed xmlns='${NS.TLS}'/><message><body>injected</body></message>`));
    driver.tlsEstablished();
    driver.receive(utf8(HEADER));
    expect(seen).toEqual(['HEADER', 'ELEMENT:proceed', 'TLS_ESTABLISHED', 'HEADER']);
  });

  it('a restart split across reads', () => {
    const { driver, seen } = drive();
    const bytes = utf8(`${HEADER}<success xmlns='${NS.SASL}'/>${HEADER} <presence/>`);
    for (let i = 0; i < bytes.length; i += 7) driver.receive(bytes.subarray(i, i + 7));
    expect(seen.filter((s) => s !== 'KEEPALIVE')).toEqual(['HEADER', 'ELEMENT:success', 'HEADER', 'ELEMENT:presence']);
  });
});
