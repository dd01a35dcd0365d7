/**
 * `npm run docs`: regenerate everything in docs/ from the machines (diagrams, SVGs, page,
 * conformance report). Deterministic: the same machines, tests and runtime give the same
 * bytes. An SVG is re-rendered only when its Mermaid source changed (the SVG carries the
 * source's hash), so a run without machine changes needs no browser; `--force` renders all.
 * `--no-svg` skips chromium altogether (the page then shows the Mermaid text). The titles of
 * generated tests are collected first with `vitest list` (docs/test-titles.json).
 */
import { generateDocs } from '../cli/generate-docs.js';

const svg = !process.argv.includes('--no-svg');
const force = process.argv.includes('--force');
// --no-test-index keeps docs/test-titles.json as committed (no `vitest list`).
const testIndex = !process.argv.includes('--no-test-index');
generateDocs({ svg, force, testIndex, log: (line) => console.log(line) }).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
