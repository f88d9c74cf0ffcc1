/**
 * sluice-bench: the benchmark CLI (`npm run bench -- <command>`). Maps commands to their modules and every
 * outcome to an exit code (cli/exit-codes.ts).
 */
import { EXIT } from './cli/exit-codes.js';
import { helpFor } from './cli/help.js';
import { UsageError } from './cli/usage-error.js';
import { compareCommand } from './commands/compare-command.js';
import { overheadCommand } from './commands/overhead-command.js';
import { reportCommand } from './commands/report-command.js';
import { runCommand } from './commands/run-command.js';
import { soakCommand } from './commands/soak-command.js';
import { mockBackendCommand, plainProxyCommand } from './commands/server-commands.js';
import { sweepCommand } from './commands/sweep-command.js';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  sweep: sweepCommand,
  compare: compareCommand,
  overhead: overheadCommand,
  soak: soakCommand,
  'mock-backend': mockBackendCommand,
  'plain-proxy': plainProxyCommand,
  report: reportCommand,
};

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(rest[0] ? helpFor(rest[0]) : helpFor('main'));
    return EXIT.ok;
  }
  // No command, or a flag first: `run`.
  const [command, args] = first === undefined || first.startsWith('-') ? ['run', argv] : [first, rest];
  const handler = COMMANDS[command];
  if (!handler) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
  return handler(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\nSee: npm run bench -- help\n`);
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT.error;
  }
}
