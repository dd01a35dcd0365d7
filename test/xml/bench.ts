/**
 * Throughput of StreamParser against bare saxes on the same input (not a test: prints ratios).
 * Run: npx tsx test/xml/bench.ts
 */
import { SaxesParser } from 'saxes';
import { StreamParser } from '../../runtime/xml/parser.js';
import { HEADER } from './helpers.js';

const STANZA =
  `<message to='juliet@example.com/balcony' from='romeo@example.net/orchard' type='chat' id='abc123'>` +
  `<body>Wherefore art thou, Romeo? &amp; €</body><thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread></message>\n`;
const input = Buffer.from(HEADER + STANZA.repeat(20_000));

function chunks(size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) out.push(input.subarray(i, i + size));
  return out;
}

function ours(parts: Buffer[]): number {
  const p = new StreamParser();
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

function time(fn: () => unknown): number {
  fn();
  const t = performance.now();
  fn();
  return performance.now() - t;
}

for (const size of [64, 1024, 16_384]) {
  const parts = chunks(size);
  const a = time(() => ours(parts));
  const b = time(() => bare(parts));
  console.log(
    `chunks of ${String(size).padStart(5)} B: StreamParser ${(input.length / 1e6 / (a / 1000)).toFixed(1)} MB/s, ` +
      `bare saxes ${(input.length / 1e6 / (b / 1000)).toFixed(1)} MB/s, ratio ${(a / b).toFixed(2)}`,
  );
}
