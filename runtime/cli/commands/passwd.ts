/** `xmppkit passwd JID PASSWORD [--data DIR]`: replace an account's SCRAM keys (new salts). */
import { parseArgs } from 'node:util';

export const help = 'passwd JID PASSWORD [--data ./data]           change an account\'s password';

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
    process.stderr.write(`xmppkit passwd: ${e instanceof Error ? e.message : String(e)}\nusage: xmppkit ${help}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    process.stderr.write(`usage: xmppkit ${help}\n`);
    return 2;
  }
  const { changePassword, AdminError } = await import('../../server/account-admin.js');
  try {
    process.stdout.write(`changed the password of ${changePassword(values.data, positionals[0]!, positionals[1]!)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    process.stderr.write(`xmppkit passwd: ${e.message}\n`);
    return e.exitCode;
  }
}
