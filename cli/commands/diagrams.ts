/**
 * `xmppkit diagrams [--out docs/diagrams] [--no-svg] [--force]`: Mermaid state diagrams of the
 * stream machines (.mmd, rendered to .svg with chromium when the source changed, always with
 * --force) and the page docs/index.html beside them.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const help = 'diagrams [--out docs/diagrams] [--no-svg] [--force]   write the machines\' state diagrams (.mmd, .svg) and docs/index.html';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, 'no-svg': { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  const { generateDiagrams, DIAGRAMS_DIR } = await import('../generate-docs.js');
  await generateDiagrams({
    diagramsDir: values.out !== undefined ? resolve(values.out) : DIAGRAMS_DIR,
    svg: !values['no-svg'],
    force: values.force,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  return 0;
}
