/**
 * `npx tsx scripts/build-playground.ts`: rebuild docs/playground/ (the bundle and its page)
 * from the machines, the simulator and docs/diagrams/. `npm run docs` runs it too.
 */
import { writePlayground } from '../playground/build.js';

const started = performance.now();
writePlayground((line) => console.log(line)).then(
  () => console.log(`built in ${Math.round(performance.now() - started)} ms`),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
