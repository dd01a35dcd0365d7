/**
 * `xmppkit report [--out docs/CONFORMANCE-REPORT.md]`: what the machines, tests and runtime
 * cite for every conformance checklist row, with a status derived from those citations.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const help = 'report [--out docs/CONFORMANCE-REPORT.md]    write the conformance report';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  const { generateReport, REPORT_FILE } = await import('../generate-docs.js');
  await generateReport({
    file: values.out !== undefined ? resolve(values.out) : REPORT_FILE,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  return 0;
}
