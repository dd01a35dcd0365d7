/**
 * The outgoing routes manager (runtime/s2s/outbound.ts) over a stub `openStream`: one route
 * per domain pair, the route machine's commands performed on the stream the stub hands out,
 * bounces delivered to the router, stale reports of abandoned attempts dropped.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { NS } from '../../machines/ns.js';
import { attr, el, type XmlElement } from '../../machines/xml.js';
import { OutboundRoutes, type OpenStream, type StreamReports } from '../../runtime/s2s/outbound.js';

const LOCAL = 'montague.example';

interface StubStream {
  readonly local: string;
  readonly remote: string;
  readonly reports: StreamReports;
  readonly written: XmlElement[];
  closed: boolean;
  aborted: boolean;
}

function setup(openNow?: (reports: StreamReports) => void) {
  const clock = new SimulatedClock();
  const streams: StubStream[] = [];
  const bounces: XmlElement[] = [];
  const openStream: OpenStream = (pair, reports) => {
    const s: StubStream = { ...pair, reports, written: [], closed: false, aborted: false };
    streams.push(s);
    openNow?.(reports);
    return { send: (stanza) => void s.written.push(stanza), close: () => void (s.closed = true), abort: () => void (s.aborted = true) };
  };
  const routes = new OutboundRoutes({
    hosted: [LOCAL],
    openStream,
    deliverBounce: (e) => void bounces.push(e),
    policy: { maxQueued: 5, timeouts: { connect: 1000, idleClose: 5000 }, retry: { min: 100, initial: 100, max: 100 } },
    clock,
    random: () => 0,
  });
  return { clock, streams, bounces, routes };
}

const message = (n: number, to = `juliet@capulet.example`) => el('message', NS.CLIENT, { from: `romeo@${LOCAL}/orchard`, to, id: `m${n}`, type: 'chat' }, el('body', NS.CLIENT, {}, `hi ${n}`));
const ids = (xs: XmlElement[]) => xs.map((x) => attr(x, 'id'));
const condition = (e: XmlElement) => (e.children.at(-1) as XmlElement).children.filter((c): c is XmlElement => typeof c !== 'string')[0]!.name;

describe('outgoing routes (6120 §10.4)', () => {
  it('6120 §10.4.2, §10.1: one stream per domain pair; what waits is written in order once authenticated', () => {
    const { streams, routes } = setup();
    routes.send(message(1));
    routes.send(message(2));
    routes.send(message(3, 'nurse@verona.example'));
    expect(streams.map((s) => s.remote)).toEqual(['capulet.example', 'verona.example']);
    expect(streams[0]!.local).toBe(LOCAL);
    streams[0]!.reports.connected();
    expect(streams[0]!.written).toEqual([]);
    streams[0]!.reports.authenticated();
    routes.send(message(4));
    expect(ids(streams[0]!.written)).toEqual(['m1', 'm2', 'm4']);
    expect(routes.state(LOCAL, 'capulet.example')).toBe('authenticated');
    expect(routes.state(LOCAL, 'verona.example')).toBe('connecting.resolving');
  });

  it('6120 §10.4.3: a failed attempt: each stanza bounced to its sender once, by the local domain; dropped presence is not', () => {
    const { streams, bounces, routes } = setup();
    routes.send(message(1));
    routes.send(el('presence', NS.CLIENT, { from: `romeo@${LOCAL}/orchard`, to: 'juliet@capulet.example', type: 'unavailable' }));
    streams[0]!.reports.failed('remote-server-not-found', 'NXDOMAIN');
    expect(bounces).toHaveLength(1); // RFC 6121 §8.5.1: unavailable presence is not answered
    expect(bounces[0]!.attrs).toEqual({ id: 'm1', to: `romeo@${LOCAL}/orchard`, from: 'juliet@capulet.example', type: 'error' });
    expect(condition(bounces[0]!)).toBe('remote-server-not-found');
    expect((bounces[0]!.children.at(-1) as XmlElement).attrs).toEqual({ type: 'cancel', by: LOCAL });
    // A second report of the same attempt changes nothing.
    streams[0]!.reports.ended();
    expect(bounces).toHaveLength(1);
  });

  it('6120 §8.3.3.17: after the connect timeout the attempt is aborted, and its late reports are ignored', () => {
    const { clock, streams, bounces, routes } = setup();
    routes.send(message(1));
    clock.increment(1000);
    expect(streams[0]!.aborted).toBe(true);
    expect(bounces.map(condition)).toEqual(['remote-server-timeout']);
    streams[0]!.reports.connected();
    streams[0]!.reports.authenticated();
    expect(streams[0]!.written).toEqual([]);
    clock.increment(100); // the back-off
    routes.send(message(2));
    expect(streams).toHaveLength(2);
    streams[1]!.reports.connected();
    streams[1]!.reports.authenticated();
    expect(ids(streams[1]!.written)).toEqual(['m2']);
  });

  it('6120 §10.4.3: an attempt that fails at once, inside openStream, bounces at once', () => {
    const { streams, bounces, routes } = setup((reports) => reports.failed('remote-server-not-found', 'cached NXDOMAIN'));
    routes.send(message(1));
    expect(streams).toHaveLength(1);
    expect(bounces.map(condition)).toEqual(['remote-server-not-found']);
    expect(routes.state(LOCAL, 'capulet.example')).toBe('waiting');
  });

  it('6120 §10.4: a stanza that does not belong on an outgoing route is refused with a clear error, nothing opened', () => {
    const { streams, routes } = setup();
    expect(() => routes.send(el('message', NS.CLIENT, { from: 'eve@elsewhere.example', to: 'juliet@capulet.example' }))).toThrow(/'from' .* hosted domain/);
    expect(() => routes.send(message(1, `benvolio@${LOCAL}`))).toThrow(/'to' .* remote domain/);
    expect(() => routes.send(el('message', NS.CLIENT, { from: `romeo@${LOCAL}` }))).toThrow(/'to'/);
    expect(streams).toEqual([]);
    expect(routes.size).toBe(0);
  });

  it('6120 §4.4: stop closes authenticated streams, bounces what waits, and forgets routes once done', () => {
    const { streams, bounces, routes } = setup();
    routes.send(message(1));
    streams[0]!.reports.connected();
    streams[0]!.reports.authenticated();
    routes.send(message(2, 'nurse@verona.example')); // still connecting
    routes.stop();
    expect(streams[0]!.closed).toBe(true);
    expect(streams[1]!.aborted).toBe(true);
    expect(ids(bounces)).toEqual(['m2']);
    expect(() => routes.send(message(3))).toThrow(/stopped/);
    expect(routes.size).toBe(1); // the closing stream's route, until it ends
    streams[0]!.reports.ended();
    expect(routes.size).toBe(0);
  });
});
