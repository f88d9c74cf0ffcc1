import { readFileSync } from 'node:fs';
import { ApiKeysFileError } from './api-keys-file.js';
import { InvalidGrantError } from './api-key-issuing.js';
import { KeysCommandError, runKeysCommand } from './keys-commands.js';
import { RedisApiKeyError } from './redis-api-keys.js';

/** `npm run keys -- <command>`: see keys-commands.ts. Exits 2 with the message alone for a mistake of the user's. */

function readStdin(): string {
  if (process.stdin.isTTY) return '';
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

const argv = process.argv.slice(2);
// `hash` without a key reads it from stdin, so the key stays out of the shell's history.
const positionals = argv.filter((arg) => !arg.startsWith('-'));
const stdin = positionals[0] === 'hash' && positionals.length === 1 ? readStdin() : '';
try {
  await runKeysCommand(argv, (line) => process.stdout.write(`${line}\n`), stdin);
} catch (error) {
  const known =
    error instanceof KeysCommandError ||
    error instanceof InvalidGrantError ||
    error instanceof ApiKeysFileError ||
    error instanceof RedisApiKeyError ||
    String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`${known ? (error as Error).message : String((error as Error).stack ?? error)}\n`);
  process.exit(2);
}
