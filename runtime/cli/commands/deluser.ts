/** `xmppkit deluser JID [--data DIR]`: delete an account and its keys. */
import { parseArgs } from 'node:util';

export const help = 'deluser JID [--data ./data]                   delete an account';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { data: { type: 'string', default: './data' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`xmppkit deluser: ${e instanceof Error ? e.message : String(e)}\nusage: xmppkit ${help}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`usage: xmppkit ${help}\n`);
    return 2;
  }
  const { deleteUser, AdminError } = await import('../../server/account-admin.js');
  try {
    process.stdout.write(`deleted ${deleteUser(values.data, positionals[0]!)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    process.stderr.write(`xmppkit deluser: ${e.message}\n`);
    return e.exitCode;
  }
}
