/**
 * Prints one closing line, `N passed, N failed[, N skipped]`, after the default reporter,
 * so CI and humans read the same count.
 *
 * On a run of the whole suite it also checks docs/test-titles.json (diagrams/test-index.ts):
 * the titles the conformance report counts must be the titles that ran. A stale index is
 * one more failure, named, and a non-zero exit.
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { indexOf, readTestIndex, renderTestIndex, TEST_INDEX_FILE } from '../diagrams/test-index.js';

const ROOT = join(import.meta.dirname, '..');

function allTestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return allTestFiles(p);
    return e.name.endsWith('.test.ts') ? [relative(ROOT, p).split(sep).join('/')] : [];
  });
}

/** The problem with the committed index, when this run covered every test file. */
function staleIndex(testModules: ReadonlyArray<TestModule>): string | undefined {
  const ran = new Set(testModules.map((m) => relative(ROOT, m.moduleId).split(sep).join('/')));
  if (!allTestFiles(join(ROOT, 'test')).every((f) => ran.has(f))) return undefined;
  const tests = testModules.flatMap((m) => [...m.children.allTests()].map((t) => ({ file: m.moduleId, name: t.fullName })));
  const ranIndex = indexOf(ROOT, tests);
  const committed = readTestIndex(ROOT);
  if (renderTestIndex(ranIndex) === renderTestIndex(committed)) return undefined;
  const titles = (index: typeof committed): Set<string> => new Set([...index].flatMap(([f, ts]) => ts.map((t) => `${f}: ${t}`)));
  const [now, then] = [titles(ranIndex), titles(committed)];
  const diff = [...[...now].filter((t) => !then.has(t)).map((t) => `  + ${t}`), ...[...then].filter((t) => !now.has(t)).map((t) => `  - ${t}`)];
  return `${TEST_INDEX_FILE} does not list the tests that ran: run \`npm run docs\` and commit docs/\n${diff.slice(0, 10).join('\n')}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = errors.length;
    let skipped = 0;
    for (const m of testModules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failedHere++;
        else skipped++;
      }
      // A file that failed outside its tests (import error, failing hook) counts once, even
      // when its tests were registered and then skipped because of it.
      if (m.state() === 'failed' && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    const stale = staleIndex(testModules);
    if (stale !== undefined) {
      process.stdout.write(`\nFAIL ${stale}\n`);
      failed++;
      process.exitCode = 1;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
