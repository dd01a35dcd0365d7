/**
 * `xmppkit mbt --target self | HOST:PORT --domain D --user U --password P [--insecure] [--json FILE]`:
 * model-based conformance test of a server against the receiving-entity machine (RFC 6120).
 * Exit code 0 when every path matched the model, 1 when there were deviations or errors.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Timeouts } from '../../machines/protocol.js';

export const help =
  'mbt --target self|HOST:PORT [--domain D --user U --password P] [--insecure] [--timeouts n,i,p,c] [--json FILE]   model-based test of a server against the RFC 6120 model\n' +
  '  mbt --client "CMD {host} {port} {jid} {password} {ca}" [--domain D --user U --password P] [--mechanisms M,..] [--client-timeouts n,i,p,c]   ... of a client';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      domain: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      timeouts: { type: 'string' },
      json: { type: 'string' },
      client: { type: 'string' },
      mechanisms: { type: 'string' },
      'client-timeouts': { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.client !== undefined) return runClient(values);
  if (values.help || values.target === undefined) {
    process.stdout.write(
      `usage: xmppkit ${help}\n\n` +
        '  --target self        start our own server (port 0, temporary data dir, test account) under two policies\n' +
        '  --target HOST:PORT   a running server; --domain, --user and --password name an existing account\n' +
        '  --timeouts n,i,p,c   the target\'s negotiation, idle, ping and close-wait timers in ms (enables the timer paths)\n' +
        '  --json FILE          also write the full report as JSON\n' +
        '  --client CMD         test a client instead: our side is a scripted server following the initiating-entity\n' +
        '                       model\'s paths; CMD is run (sh -c) once per path with {host} {port} {domain} {user} {jid}\n' +
        '                       {password} {ca} replaced; the client must require TLS and trust only {ca}\n' +
        '  --mechanisms M,..    the client\'s SASL mechanisms in preference order (default SCRAM-SHA-256,SCRAM-SHA-1,PLAIN)\n' +
        '  --client-timeouts n,i,p,c  the client\'s timers in ms, when configured short (enables the silence paths)\n',
    );
    return values.help ? 0 : 2;
  }
  const { runMbt, renderText } = await import('../../mbt/index.js');
  const log = values.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const concurrency = values.concurrency !== undefined ? Number(values.concurrency) : undefined;
  let report;
  if (values.target === 'self') {
    report = await runMbt({ kind: 'self' }, { ...(log ? { log } : {}), ...(concurrency ? { concurrency } : {}) });
  } else {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(values.target);
    if (!m) throw new Error(`--target must be 'self' or HOST:PORT, not '${values.target}'`);
    if (values.domain === undefined || values.user === undefined || values.password === undefined) throw new Error('--domain, --user and --password are required with HOST:PORT');
    report = await runMbt(
      {
        kind: 'remote',
        host: m[1]!.replace(/^\[|\]$/g, ''),
        port: Number(m[2]),
        domain: values.domain,
        user: values.user,
        password: values.password,
        insecure: values.insecure,
        ...(values.timeouts !== undefined ? { timeouts: parseTimeouts(values.timeouts) } : {}),
      },
      { ...(log ? { log } : {}), ...(concurrency ? { concurrency } : {}) },
    );
  }
  process.stdout.write(renderText(report));
  if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.totals.deviations + report.totals.errors === 0 ? 0 : 1;
}

function parseTimeouts(s: string): Timeouts {
  const [negotiation, idle, pingResponse, closeWait] = s.split(',').map(Number);
  if ([negotiation, idle, pingResponse, closeWait].some((x) => x === undefined || !Number.isFinite(x) || x <= 0)) {
    throw new Error('--timeouts takes four positive numbers: negotiation,idle,pingResponse,closeWait (ms)');
  }
  return { negotiation: negotiation!, idle: idle!, pingResponse: pingResponse!, closeWait: closeWait! };
}

async function runClient(values: Record<string, string | boolean | undefined>): Promise<number> {
  const { runClientMbt } = await import('../../mbt/client/index.js');
  const { renderText } = await import('../../mbt/index.js');
  const { DEFAULT_CLIENT_POLICY } = await import('../../machines/policy.js');
  const log = values.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const timeouts = typeof values['client-timeouts'] === 'string' ? parseTimeouts(values['client-timeouts']) : undefined;
  const mechanisms = typeof values.mechanisms === 'string' ? (values.mechanisms.split(',') as typeof DEFAULT_CLIENT_POLICY.mechanisms) : DEFAULT_CLIENT_POLICY.mechanisms;
  const report = await runClientMbt(
    {
      name: 'client',
      command: String(values.client),
      account: { domain: typeof values.domain === 'string' ? values.domain : 'localhost', user: typeof values.user === 'string' ? values.user : 'mbt', password: typeof values.password === 'string' ? values.password : 'mbt-secret-1' },
      policy: { ...DEFAULT_CLIENT_POLICY, mechanisms, ...(timeouts ? { timeouts } : {}) },
      ...(timeouts ? { timeouts } : {}),
    },
    { ...(log ? { log } : {}), ...(typeof values.concurrency === 'string' ? { concurrency: Number(values.concurrency) } : {}) },
  );
  process.stdout.write(renderText(report));
  if (typeof values.json === 'string') writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.totals.deviations + report.totals.errors + report.totals.notReached === 0 ? 0 : 1;
}
