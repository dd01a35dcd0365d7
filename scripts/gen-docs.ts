/**
 * `npm run docs`: regenerate everything in docs/ from the machines (diagrams, SVGs, page,
 * conformance report). `--no-svg` skips chromium (the page then shows the Mermaid text).
 */
import { generateDocs } from '../diagrams/generate.js';

const svg = !process.argv.includes('--no-svg');
generateDocs({ svg, log: (line) => console.log(line) }).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
