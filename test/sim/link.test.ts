import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { VirtualClock } from '../../sim/clock.js';
import { Link, type LinkSink } from '../../sim/link.js';
import { Rng } from '../../sim/rng.js';

function recorder(): LinkSink & { log: string[]; text: string } {
  const r = {
    log: [] as string[],
    text: '',
    receive(c: Uint8Array) {
      r.text += Buffer.from(c).toString('latin1');
    },
    tlsEstablished() {
      r.log.push('tls');
    },
    tlsFailed(reason: string) {
      r.log.push(`tls-failed:${reason}`);
    },
    closed(reason?: string) {
      r.log.push(`closed:${reason}`);
    },
    writeFailed(reason?: string) {
      r.log.push(`write-failed:${reason}`);
    },
  };
  return r;
}

describe('sim link', () => {
  test.prop([fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 20 }), fc.integer({ min: 1, max: 16 }), fc.integer()])(
    'delivers every byte in order whatever the fragmentation and delay',
    (writes, maxFragment, seed) => {
      const clock = new VirtualClock();
      const link = new Link(clock, new Rng(seed), { maxFragment, delay: [0, 50] });
      const b = recorder();
      link.b.attach(b);
      link.a.attach(recorder());
      for (const w of writes) link.a.write(w);
      clock.run();
      expect(Buffer.from(b.text, 'latin1').toString('utf8')).toBe(writes.join(''));
      expect(clock.pending).toBe(0);
    },
  );

  it('ASCII text travels as text; after raw bytes (which may end inside a character) later text goes as bytes, in order', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(7), { maxFragment: 1 << 16, delay: [0, 0] });
    const chunks: (Uint8Array | string)[] = [];
    const sink = { ...recorder(), receive: (c: Uint8Array | string) => void chunks.push(c) };
    link.b.attach(sink);
    link.a.attach(recorder());
    link.a.write('<presence/>');
    link.a.writeBytes(Uint8Array.from([0x3c, 0xc3])); // '<' and the first byte of a two-byte character
    link.a.write('a/>');
    clock.run();
    expect(chunks[0]).toBe('<presence/>');
    expect(chunks.slice(1).every((c) => c instanceof Uint8Array)).toBe(true);
    expect([...Buffer.concat(chunks.slice(1).map((c) => c as Uint8Array))]).toEqual([0x3c, 0xc3, 0x61, 0x2f, 0x3e]);
  });

  it('TLS is an event pair: established on both ends once both asked, and later writes are marked encrypted', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(1));
    const a = recorder();
    const b = recorder();
    link.a.attach(a);
    link.b.attach(b);
    link.a.write('<starttls/>');
    link.a.startTls();
    clock.run();
    expect(a.log).toEqual([]);
    link.b.startTls();
    clock.run();
    expect(a.log).toEqual(['tls']);
    expect(b.log).toEqual(['tls']);
    link.a.write('secret');
    expect(link.segments.map((s) => s.encrypted)).toEqual([false, true]);
  });

  it('a failed handshake reaches both ends', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(1), { maxFragment: 10, delay: [1, 1], tlsFails: true });
    const a = recorder();
    const b = recorder();
    link.a.attach(a);
    link.b.attach(b);
    link.a.startTls();
    link.b.startTls();
    clock.run();
    expect(a.log[0]).toMatch(/^tls-failed/);
    expect(b.log[0]).toMatch(/^tls-failed/);
  });

  it('close delivers in-flight bytes first, then ends both sides', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(2), { maxFragment: 1, delay: [1, 5] });
    const a = recorder();
    const b = recorder();
    link.a.attach(a);
    link.b.attach(b);
    link.a.write('</stream:stream>');
    link.a.close();
    clock.run();
    expect(b.text).toBe('</stream:stream>');
    expect(b.log).toEqual(['closed:peer closed']);
    expect(a.log).toEqual(['closed:closed']);
  });

  it('an abrupt cut ends both sides mid-stream', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(3), { maxFragment: 4, delay: [1, 1], cutAfterBytes: 10 });
    const a = recorder();
    const b = recorder();
    link.a.attach(a);
    link.b.attach(b);
    link.a.write('0123456789abcdefghij');
    clock.run();
    expect(b.text.length).toBeLessThanOrEqual(10);
    expect(a.log).toEqual(['closed:connection reset (simulated)']);
    expect(b.log).toEqual(['closed:connection reset (simulated)']);
  });

  it('a peer that stops reading makes the writer fail once the buffer limit is passed (§4.6.1)', () => {
    const clock = new VirtualClock();
    const link = new Link(clock, new Rng(4), { maxFragment: 100, delay: [1, 1], maxBuffered: 50 });
    const a = recorder();
    const b = recorder();
    link.a.attach(a);
    link.b.attach(b);
    link.b.setReading(false);
    link.a.write('x'.repeat(40));
    clock.run();
    expect(a.log).toEqual([]);
    link.a.write('y'.repeat(40));
    clock.run();
    expect(a.log[0]).toMatch(/^write-failed/);
    link.b.setReading(true);
    expect(b.text.length).toBe(80);
  });

  it('the virtual clock orders ties by scheduling order and reports pending timers', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(1), 10);
    clock.setTimeout(() => seen.push(2), 10);
    const id = clock.setTimeout(() => seen.push(3), 5);
    clock.clearTimeout(id);
    expect(clock.pending).toBe(2);
    clock.run(9);
    expect(clock.now()).toBe(9);
    clock.run();
    expect(seen).toEqual([1, 2]);
    expect(clock.now()).toBe(10);
  });
});
