/** `xmppkit passwd JID PASSWORD [--data DIR]`: replace an account's SCRAM keys (new salts). */
import { runAccountCommand } from '../account-command.js';

export const help = 'passwd JID PASSWORD [--data ./data]           change an account\'s password';

export function run(argv: string[]): Promise<number> {
  return runAccountCommand('passwd', help, argv, 2, ({ changePassword }, data, [jid, password]) => {
    process.stdout.write(`changed the password of ${changePassword(data, jid!, password!)}\n`);
  });
}
