/**
 * `xmppkit <command> [options]`: one module per command under ./commands/, each exporting
 * `help` (one line) and `run(argv) → exit code`. Modules load lazily so that `--help` and
 * a single command load only what they need.
 */
export const COMMANDS = [
  'serve',
  'check-config',
  'adduser',
  'deluser',
  'passwd',
  'send',
  'connect',
  'sim',
  'mbt',
  'diagrams',
  'report',
] as const;

interface CommandModule {
  readonly help: string;
  run(argv: string[]): Promise<number>;
}

async function load(name: string): Promise<CommandModule> {
  // A specifier in a variable: each command module is optional to the type checker.
  const specifier: string = `./commands/${name}.js`;
  return (await import(specifier)) as CommandModule;
}

async function usage(): Promise<string> {
  const lines = ['usage: xmppkit <command> [options]', '', 'commands:'];
  for (const name of COMMANDS) {
    try {
      lines.push(`  ${(await load(name)).help}`);
    } catch {
      // A command whose module is missing is not listed.
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name === undefined ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(name)) {
    process.stderr.write(`xmppkit: unknown command '${name}'\n${await usage()}`);
    return 2;
  }
  const command = await load(name);
  return command.run(rest);
}

// Run when executed directly (tsx cli/main.ts ... or bin/xmppkit.js).
const invoked = process.argv[1] ?? '';
if (invoked.endsWith('main.ts') || invoked.endsWith('xmppkit.js') || invoked.endsWith('xmppkit')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`xmppkit: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
