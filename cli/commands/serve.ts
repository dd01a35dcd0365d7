/**
 * `xmppkit serve`: run the XMPP server until SIGTERM/SIGINT, which send `<system-shutdown/>`
 * (RFC 6120 §4.9.3.20) to every stream, close them cleanly and exit 0. `--config FILE` reads
 * the options from a file (CONFIG.md); the flags given override it. A bad file: every problem
 * on stderr (as `xmppkit check-config` prints them), exit 1, nothing started.
 */
import { parseArgs } from 'node:util';

export const help =
  'serve [--config FILE] [--domain D] [--port 5222] [--host 127.0.0.1] [--data ./data] [--cert F --key F] [--s2s-port 5269 | --no-s2s] [--log-level info]   run the XMPP server until SIGTERM/SIGINT';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        domain: { type: 'string' },
        // No defaults here: an absent flag leaves the file's value (or createServer's default).
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        'log-level': { type: 'string' },
        's2s-port': { type: 'string' },
        'no-s2s': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`xmppkit serve: ${e instanceof Error ? e.message : String(e)}\nusage: xmppkit ${help}\n`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`usage: xmppkit ${help}\n`);
    return 0;
  }
  const { createServer, isLogLevel, LOG_LEVELS, recordedDomain, DEFAULT_DOMAIN } = await import('../../runtime/server/index.js');
  const { formatProblem, loadServerConfig, withOverrides } = await import('../../runtime/config/server-config.js');
  const port = values.port === undefined ? undefined : Number(values.port);
  const logLevel = values['log-level'];
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) return usageError(`--port must be 0..65535, not ${values.port}`);
  if (logLevel !== undefined && !isLogLevel(logLevel)) return usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  if ((values.cert === undefined) !== (values.key === undefined)) return usageError('give both --cert and --key, or neither');
  const s2sPort = values['s2s-port'] === undefined ? undefined : Number(values['s2s-port']);
  if (s2sPort !== undefined && (!Number.isInteger(s2sPort) || s2sPort < 0 || s2sPort > 65535)) return usageError(`--s2s-port must be 0..65535, not ${values['s2s-port']}`);
  if (s2sPort !== undefined && values['no-s2s']) return usageError('--s2s-port and --no-s2s contradict each other');

  let fromFile = {};
  if (values.config !== undefined) {
    const config = loadServerConfig(values.config);
    if (!config.ok) {
      for (const p of config.problems) process.stderr.write(`${formatProblem(values.config, p)}\n`);
      process.stderr.write(`xmppkit serve: ${values.config}: ${config.problems.length} problem${config.problems.length === 1 ? '' : 's'}, not started\n`);
      return 1;
    }
    fromFile = config.options;
  }
  const options = withOverrides(fromFile, {
    domain: values.domain,
    port,
    host: values.host,
    dataDir: values.data,
    cert: values.cert,
    key: values.key,
    logLevel,
  });
  const host = options.host ?? '127.0.0.1';
  // CONFIG.md s2s.enabled: federation on, except for 'localhost' (RFC 6761 §6.3: nobody else can reach it).
  const domain = options.domain ?? recordedDomain(options.dataDir ?? './data') ?? DEFAULT_DOMAIN;
  const s2sConfigured = options.s2s?.enabled;
  const s2s = {
    ...options.s2s,
    ...(s2sPort !== undefined && { port: s2sPort }),
    enabled: values['no-s2s'] ? false : (options.s2s?.enabled ?? domain !== 'localhost'),
  };
  Object.assign(options, { s2s });

  let server;
  try {
    server = createServer(options);
  } catch (e) {
    process.stderr.write(`xmppkit serve: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let address;
  try {
    address = await server.listen();
  } catch (e) {
    process.stderr.write(`xmppkit serve: cannot listen on ${host}:${options.port ?? 5222}: ${e instanceof Error ? e.message : String(e)}\n`);
    await server.close();
    return 1;
  }
  const users = server.accounts.list().length;
  process.stdout.write(
    [
      `xmppkit: XMPP server for '${server.domain}' listening on ${address.host}:${address.port} (TLS ${options.policy?.tls ?? 'required'}, data in ${server.dataDir})`,
      server.s2sAddress
        ? `xmppkit: server-to-server on ${server.s2sAddress.host}:${server.s2sAddress.port} (TLS ${s2s.tls ?? 'required'}, dialback ${s2s.dialback === false ? 'off: certificates required' : 'allowed'})`
        : `xmppkit: no server-to-server listener (${s2s.enabled ? '' : domain === 'localhost' && s2sConfigured === undefined && !values['no-s2s'] ? "the domain 'localhost' cannot federate; " : ''}stanzas for other domains get <remote-server-not-found/>)`,
      `xmppkit: ${users} account${users === 1 ? '' : 's'}; add one with: npx xmppkit adduser alice@${server.domain} PASSWORD${server.dataDir !== './data' ? ` --data ${server.dataDir}` : ''}`,
      `xmppkit: the certificate is self-signed unless --cert was given: clients need --insecure or to pin ${server.dataDir}/tls/cert.pem`,
      '',
    ].join('\n'),
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.stdout.write(`xmppkit: ${signal}: shutting down\n`);
  await server.close();
  return 0;
}

function usageError(message: string): number {
  process.stderr.write(`xmppkit serve: ${message}\nusage: xmppkit ${help}\n`);
  return 2;
}
