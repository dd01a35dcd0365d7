/**
 * The shape shared by the account commands (adduser, deluser, passwd): parse `JID ... [--data DIR]`,
 * answer --help, check the positional count, then run one account-admin operation, turning its
 * AdminError into a message on stderr and its exit code. account-admin is imported only when
 * the arguments are good, so a usage error never opens the store.
 */
import { parseArgs } from 'node:util';

type AccountAdmin = typeof import('../runtime/server/account-admin.js');

/**
 * Runs `xmppkit <command>`: `act` performs the operation and writes its report to stdout;
 * returns the process exit code (0, 2 for usage, or the AdminError's code).
 */
export async function runAccountCommand(
  command: string,
  help: string,
  argv: string[],
  positionalCount: number,
  act: (admin: AccountAdmin, data: string, positionals: string[]) => void,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { data: { type: 'string', default: './data' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`xmppkit ${command}: ${e instanceof Error ? e.message : String(e)}\nusage: xmppkit ${help}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  if (positionals.length !== positionalCount) {
    process.stderr.write(`usage: xmppkit ${help}\n`);
    return 2;
  }
  const admin = await import('../runtime/server/account-admin.js');
  try {
    act(admin, values.data, positionals);
    return 0;
  } catch (e) {
    if (!(e instanceof admin.AdminError)) throw e;
    process.stderr.write(`xmppkit ${command}: ${e.message}\n`);
    return e.exitCode;
  }
}
