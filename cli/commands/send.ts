/**
 * `xmppkit send --jid J --password P [--host H --port N] [--insecure | --ca FILE] --to JID TEXT`:
 * log in (STARTTLS §5, SASL §6, bind §7), send one message (§8.2.1), close the stream
 * gracefully (§4.4). Exit 0 when the stream closed cleanly; else 1 with the condition by
 * name, e.g. `xmppkit: authentication failed: <not-authorized/> (RFC 6120 §6.5.10)`.
 */
import { parseJid } from '../../machines/jid.js';
import { NS } from '../../machines/ns.js';
import { el } from '../../machines/xml.js';
import { CLIENT_ARG_USAGE, clientOptionsFrom, parseClientArgs, UsageError } from '../../runtime/client/cli-options.js';
import { ClientError, createClient, describeOutcome } from '../../runtime/client/index.js';

export const help = 'send --jid J --password P [--host H] [--port N] [--insecure | --ca FILE] --to JID TEXT   send one message';

const USAGE = `usage: xmppkit send ${CLIENT_ARG_USAGE} --to JID [--type chat|normal|headline] TEXT\n`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  let opts;
  try {
    parsed = parseClientArgs(argv, { to: { type: 'string' }, type: { type: 'string', default: 'chat' } });
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    opts = clientOptionsFrom(parsed.values);
    const to = parsed.values.to;
    if (typeof to !== 'string' || parseJid(to) === undefined) throw new UsageError('--to needs a recipient JID');
    if (parsed.positionals.length === 0) throw new UsageError('the message TEXT is missing');
    // §8.2.1: message types a one-shot sender may use ('groupchat' needs a room, 'error' is a reply).
    if (!['chat', 'normal', 'headline'].includes(String(parsed.values.type))) throw new UsageError('--type must be chat, normal or headline');
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`xmppkit send: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }

  const client = createClient(opts);
  try {
    await client.start();
  } catch (err) {
    process.stderr.write(`xmppkit: ${err instanceof ClientError ? err.message : String(err)}\n`);
    return 1;
  }
  const body = parsed.positionals.join(' ');
  client.send(el('message', NS.CLIENT, { to: parsed.values.to, type: parsed.values.type, id: `send-${Date.now().toString(36)}` }, el('body', NS.CLIENT, {}, body)));
  const outcome = await client.stop();
  if (outcome.kind === 'closed' && outcome.condition === undefined) return 0;
  process.stderr.write(`xmppkit: ${describeOutcome(outcome)}\n`);
  return 1;
}
