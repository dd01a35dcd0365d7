/**
 * `xmppkit adduser JID PASSWORD [--data DIR]`: create an account (SCRAM keys only are stored).
 * Works while the server runs; the new account can log in at once.
 */
import { runAccountCommand } from '../account-command.js';

export const help = 'adduser JID PASSWORD [--data ./data]          create an account (stores SCRAM keys only)';

export function run(argv: string[]): Promise<number> {
  return runAccountCommand('adduser', help, argv, 2, ({ addUser }, data, [jid, password]) => {
    const r = addUser(data, jid!, password!);
    if (r.created) process.stdout.write(`initialized ${data} for the domain ${r.domain}\n`);
    process.stdout.write(`added ${r.jid}\n`);
  });
}
