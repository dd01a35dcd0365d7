/**
 * `xmppkit check-config FILE`: check a server configuration file (CONFIG.md) without starting
 * anything. Every problem on stderr as `FILE:LINE:COLUMN: key: message`; exit 0 when the file
 * is good, 1 when it has problems, 2 for a usage error. `serve --config` prints the same.
 */
import { parseArgs } from 'node:util';

export const help = 'check-config FILE   check a server configuration file (CONFIG.md): every problem with its line, exit 1 if any';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) return usage('give exactly one configuration file');
  const { formatProblem, loadServerConfig } = await import('../../runtime/config/server-config.js');
  const config = loadServerConfig(file);
  if (config.ok) {
    process.stdout.write(`${file}: ok\n`);
    return 0;
  }
  for (const p of config.problems) process.stderr.write(`${formatProblem(file, p)}\n`);
  process.stderr.write(`${file}: ${config.problems.length} problem${config.problems.length === 1 ? '' : 's'}\n`);
  return 1;
}

function usage(message: string): number {
  process.stderr.write(`xmppkit check-config: ${message}\nusage: xmppkit ${help}\n`);
  return 2;
}
