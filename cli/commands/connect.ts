/**
 * `xmppkit connect --jid J --password P [...]`: an interactive teaching session. Every
 * transition of the client's stream machine is printed as it happens, with the RFC 6120
 * section it implements; incoming stanzas are printed as XML; each line typed is parsed as
 * one XML element by the project's XML layer and sent (a line that does not parse gets a
 * local error and is not sent). `/quit` (or end of input) closes the stream gracefully (§4.4).
 */
import { createInterface } from 'node:readline';
import { NS } from '../../machines/ns.js';
import { applicationMayWrite } from '../../machines/initiating/index.js';
import { CLIENT_ARG_USAGE, clientOptionsFrom, parseClientArgs, UsageError } from '../../runtime/client/cli-options.js';
import { createClient, describeOutcome, formatTransition, parseStanzaLine } from '../../runtime/client/index.js';
import { serializeElement } from '../../runtime/xml/index.js';

export const help = 'connect --jid J --password P [--host H] [--port N] [--insecure | --ca FILE] [--wire]   interactive session printing every transition with its RFC section';

const USAGE = `usage: xmppkit connect ${CLIENT_ARG_USAGE} [--wire]
  type one XML element per line to send it (e.g. <message to='bob@localhost' type='chat'><body>hi</body></message>),
  /quit to close the stream (RFC 6120 §4.4), /help for this text.
  --wire also prints the XML written (C:) and read (S:), decrypted.\n`;

export async function run(argv: string[]): Promise<number> {
  let opts;
  let wire = false;
  try {
    const parsed = parseClientArgs(argv, { wire: { type: 'boolean', default: false } });
    if (parsed.values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    opts = clientOptionsFrom(parsed.values);
    wire = parsed.values.wire === true;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`xmppkit connect: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }

  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const client = createClient(opts);
  out(`*** connecting to ${client.host}:${client.port} as ${opts.jid}; /quit to close, /help for help`);
  client.on('state', (t) => out(formatTransition(t)));
  if (wire) client.on('wire', (w) => out(`${w.direction === 'out' ? 'C:' : 'S:'} ${w.text}`));
  client.on('stanza', (s) => out(`<<< ${serializeElement(s, NS.CLIENT)}`));

  const rl = createInterface({ input: process.stdin, terminal: false });
  let quitting = false;
  const ended = new Promise<number>((resolve) => {
    client.on('offline', (o) => {
      rl.close();
      if (quitting && o.kind === 'closed' && o.condition === undefined) {
        out(`*** ${describeOutcome(o)}`);
        resolve(0);
      } else {
        process.stderr.write(`xmppkit: ${describeOutcome(o)}\n`);
        resolve(1);
      }
    });
  });
  const started = client.start().then(
    (jid) => out(`*** online as ${jid} (SASL ${client.mechanism ?? '?'}); type one XML element per line`),
    () => undefined, // reported by 'offline'
  );

  // /quit or end of input while still negotiating waits for the stream to get online first,
  // so that piped input (`printf '<message .../>\n/quit\n' | xmppkit connect ...`) is sent.
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    void started.then(() => {
      if (client.status === 'stopped') return;
      out('*** closing the stream (RFC 6120 §4.4)');
      void client.stop();
    });
  };
  rl.on('line', (raw) => {
    const line = raw.trim();
    if (line === '') return;
    if (line === '/quit') return quit();
    if (line === '/help') return void process.stdout.write(USAGE);
    if (quitting) return out('!!! not sent: the stream is closing');
    const parsed = parseStanzaLine(line);
    if (!parsed.ok) return out(`!!! not sent: ${parsed.error}`);
    if (!applicationMayWrite(parsed.element)) {
      return out('!!! not sent: stream, TLS and SASL elements belong to the negotiation (RFC 6120 §4.3.5), not to the application');
    }
    try {
      const queued = client.status !== 'online';
      client.send(parsed.element);
      out(queued ? '... queued until the stream is online (RFC 6120 §4.3.5)' : `>>> ${serializeElement(parsed.element, NS.CLIENT)}`);
    } catch (err) {
      out(`!!! not sent: ${(err as Error).message}`);
    }
  });
  rl.on('close', quit); // end of input: close gracefully too
  process.once('SIGINT', quit);
  const code = await ended;
  process.removeListener('SIGINT', quit);
  return code;
}
