/**
 * Throughput of StreamParser against the former saxes-based parser (test/xml/oracle) and
 * bare saxes (no tree, no XMPP rules) on the same input, measured in the same run (not a
 * test: prints ratios). Run: npx tsx test/xml/bench.ts
 */
import { SaxesParser } from 'saxes';
import { StreamParser } from '../../runtime/xml/parser.js';
import { HEADER } from './helpers.js';
import { SaxesStreamParser } from './oracle/saxes-stream-parser.js';

const STANZA =
  `<message to='juliet@example.com/balcony' from='romeo@example.net/orchard' type='chat' id='abc123'>` +
  `<body>Wherefore art thou, Romeo? &amp; €</body><thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread></message>\n`;
const input = Buffer.from(HEADER + STANZA.repeat(20_000));

function chunks(size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) out.push(input.subarray(i, i + size));
  return out;
}

function parseAll(parts: Buffer[], p: { write(c: Uint8Array): unknown[] } = new StreamParser()): number {
  let n = 0;
  for (const c of parts) n += p.write(c).length;
  return n;
}

function bare(parts: Buffer[]): number {
  const decoder = new TextDecoder();
  const s = new SaxesParser({ xmlns: true, position: false });
  let n = 0;
  s.on('opentag', () => n++);
  s.on('text', () => undefined);
  for (const c of parts) s.write(decoder.decode(c, { stream: true }));
  return n;
}

/** The best of five timed runs, in ms (the least disturbed by the rest of the machine). */
function time(fn: () => unknown): number {
  fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

const mbps = (ms: number): string => `${(input.length / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
for (const size of [64, 1024, 16_384]) {
  const parts = chunks(size);
  const a = time(() => parseAll(parts));
  const o = time(() => parseAll(parts, new SaxesStreamParser()));
  const b = time(() => bare(parts));
  console.log(
    `chunks of ${String(size).padStart(5)} B: StreamParser ${mbps(a)}, former saxes-based parser ${mbps(o)} (ratio ${(o / a).toFixed(2)}), ` +
      `bare saxes ${mbps(b)} (ratio ${(b / a).toFixed(2)})`,
  );
}
