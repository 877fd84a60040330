/**
 * Entry point: `edgebridge <command>`. Commands are a table from name to module, each loaded only
 * when used. Exit codes follow sysexits.h where one fits: 0 ok, 64 usage, 78 configuration
 * (EX_CONFIG), 1 anything else at run time (systemd's Restart=on-failure restarts it).
 */
import { EX_USAGE } from './config/exit-code.js'
import { version } from './version.js'

export { EX_USAGE, version }

interface Command {
  summary: string
  run(args: string[]): Promise<number>
}

const commands: Record<string, Command> = {
  run: {
    summary: 'run the gateway daemon (the default when no command is given)',
    run: async (args) => (await import('./cli/run.js')).runDaemonCommand(args),
  },
  'check-config': {
    summary: 'validate the configuration and print the effective values, secrets masked',
    run: async (args) => (await import('./cli/check-config.js')).runCheckConfigCommand(args),
  },
  passwd: {
    summary: 'manage a password file in mosquitto_passwd format: passwd [-c|-D|-b] <file> <user> [password]',
    run: async (args) => (await import('./cli/passwd.js')).runPasswdCommand(args),
  },
  status: {
    summary: "print the running gateway's state (devices, backlog, core, drops) from its HTTP listener",
    run: async (args) => (await import('./cli/status.js')).runStatusCommand(args),
  },
  audit: {
    summary:
      "check at the core that each gateway's records all arrived, in order: audit <topic|stream> [--help]",
    run: async (args) => (await import('./cli/audit.js')).runAuditCommand(args),
  },
  bench: {
    summary: 'run a benchmark scenario: bench <latency|throughput|memory|...> [--help]',
    run: async (args) => (await import('./cli/bench.js')).runBenchCommand(args),
  },
}

export function helpText(): string {
  const lines = [
    `edgebridge ${version()}: MQTT devices in, Kafka / NATS / Redis out, nothing acknowledged is lost.`,
    '',
    'Usage: edgebridge <command> [--config <file>] [--<section>.<key>=<value> ...]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(14)}${c.summary}`),
    '',
    'Options:',
    '  --config <file>   JSON or YAML configuration file (also EDGEBRIDGE_CONFIG)',
    '  --help, -h        this help',
    '  --version, -v     print the version',
    '',
    'Every setting can also come from the environment (EDGEBRIDGE_BACKEND, EDGEBRIDGE_MQTT_PORT, ...);',
    'see docs/configuration.md.',
  ]
  return lines.join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(helpText() + '\n')
    return 0
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(version() + '\n')
    return 0
  }
  if (first === undefined || first.startsWith('-')) return commands.run!.run(argv)
  const command = commands[first]
  if (command === undefined) {
    process.stderr.write(`edgebridge: unknown command "${first}"\n\n${helpText()}\n`)
    return EX_USAGE
  }
  return command.run(rest)
}

// Run when executed (bin/edgebridge.js or `tsx src/main.ts`), not when imported by tests.
const invokedDirectly =
  process.argv[1] !== undefined && /(?:edgebridge(?:\.js)?|main\.[jt]s)$/.test(process.argv[1])
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      // `run` keeps the process alive itself; other commands end here.
      if (code !== -1) process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`edgebridge: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exitCode = 1
    },
  )
}
