/** `xmppkit deluser JID [--data DIR]`: delete an account and its keys. */
import { runAccountCommand } from '../account-command.js';

export const help = 'deluser JID [--data ./data]                   delete an account';

export function run(argv: string[]): Promise<number> {
  return runAccountCommand('deluser', help, argv, 1, ({ deleteUser }, data, [jid]) => {
    process.stdout.write(`deleted ${deleteUser(data, jid!)}\n`);
  });
}
