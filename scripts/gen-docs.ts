/**
 * `npm run docs`: regenerate everything in docs/ from the machines (diagrams, SVGs, page,
 * conformance report). Deterministic: the same machines, tests and runtime give the same
 * bytes. An SVG is re-rendered only when its Mermaid source changed (the SVG carries the
 * source's hash), so a run without machine changes needs no browser; `--force` renders all.
 * `--no-svg` skips chromium altogether (the page then shows the Mermaid text).
 */
import { generateDocs } from '../diagrams/generate.js';

const svg = !process.argv.includes('--no-svg');
const force = process.argv.includes('--force');
generateDocs({ svg, force, log: (line) => console.log(line) }).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
