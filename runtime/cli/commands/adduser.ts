/**
 * `xmppkit adduser JID PASSWORD [--data DIR]`: create an account (SCRAM keys only are stored).
 * Works while the server runs; the new account can log in at once.
 */
import { parseArgs } from 'node:util';

export const help = 'adduser JID PASSWORD [--data ./data]          create an account (stores SCRAM keys only)';

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
    process.stderr.write(`xmppkit adduser: ${e instanceof Error ? e.message : String(e)}\nusage: xmppkit ${help}\n`);
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
  const { addUser, AdminError } = await import('../../server/account-admin.js');
  try {
    const r = addUser(values.data, positionals[0]!, positionals[1]!);
    if (r.created) process.stdout.write(`initialized ${values.data} for the domain ${r.domain}\n`);
    process.stdout.write(`added ${r.jid}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    process.stderr.write(`xmppkit adduser: ${e.message}\n`);
    return e.exitCode;
  }
}
