import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { ApiKeyGrant } from './api-key-entry.js';
import { loadApiKeysFile } from './api-keys-file.js';
import { entryOf, entryYaml, generateApiKey, grantOf } from './api-key-issuing.js';
import { hashApiKey } from './key-ring.js';
import { RedisApiKeys } from './redis-api-keys.js';

const USAGE = `Manage the gateway's API keys (DEPLOY.md, "API keys").

  npm run keys -- new <name> [--models a,b] [--admin] [--rpm N] [--tpm N] [--concurrent N] [--weight N] [--redis URL]
      a fresh key, printed once, and its entry for the keys file (with --redis: stored in Redis instead)
  npm run keys -- hash [key]          the SHA-256 the keys file stores for a key (read from stdin when not given)
  npm run keys -- revoke <name> --redis URL
                                      revoke a key kept in Redis (in a keys file: set "revoked: true")
  npm run keys -- list (--redis URL | --file PATH)
                                      every key's name, scope, admin and state (never a key)

  --prefix P   the Redis key prefix (default: DISPATCH_PREFIX, else sluice): keys live in the hash <P>:api-keys`;

/** A command given wrongly, or one that cannot do what it was asked: its message is all the user needs. */
export class KeysCommandError extends Error {}

const OPTIONS = {
  models: { type: 'string' },
  admin: { type: 'boolean' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  concurrent: { type: 'string' },
  weight: { type: 'string' },
  redis: { type: 'string' },
  prefix: { type: 'string' },
  file: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one command of `npm run keys`; what it prints goes to `out` (keys-cli.ts is the process around it). */
export async function runKeysCommand(argv: string[], out: (line: string) => void, stdin = ''): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, argument] = positionals;
  if (values.help || command === undefined || command === 'help') return out(USAGE);
  const prefix = values.prefix ?? (process.env.DISPATCH_PREFIX || 'sluice');
  switch (command) {
    case 'new': {
      if (!argument) throw new KeysCommandError('new needs a name: npm run keys -- new <name>');
      const grant = grantOf(argument, {
        ...(values.models !== undefined ? { models: values.models.split(',').filter(Boolean) } : {}),
        admin: values.admin ?? false,
        ...optionalNumber('rpm', values.rpm, 'requestsPerMinute'),
        ...optionalNumber('tpm', values.tpm, 'tokensPerMinute'),
        ...optionalNumber('concurrent', values.concurrent, 'maxConcurrent'),
        ...optionalNumber('weight', values.weight, 'weight'),
      });
      const key = generateApiKey();
      const entry = entryOf(key, grant);
      if (values.redis !== undefined) {
        const store = await withRedis(values.redis, prefix, (keys) => keys.add(entry.sha256, grant).then(() => keys));
        out(`key "${grant.name}" stored in Redis (${store.hashKey}); every gateway with API_KEYS_REDIS=on accepts it`);
        out(`the key (shown this once; keep it secret):\n${key}`);
        return;
      }
      out(`the key (shown this once; keep it secret):\n${key}`);
      out(`\nits entry, to paste under "keys:" in the keys file (API_KEYS_FILE):\n${entryYaml(entry)}`);
      return;
    }
    case 'hash': {
      const key = (argument ?? stdin).trim();
      if (key === '') throw new KeysCommandError('hash needs a key: npm run keys -- hash <key>, or on stdin');
      return out(hashApiKey(key));
    }
    case 'revoke': {
      if (!argument) throw new KeysCommandError('revoke needs a name: npm run keys -- revoke <name> --redis URL');
      if (values.redis === undefined)
        throw new KeysCommandError('revoke works on keys in Redis (--redis URL); in a keys file, set "revoked: true"');
      const revoked = await withRedis(values.redis, prefix, (keys) => keys.revoke(argument));
      if (!revoked) throw new KeysCommandError(`no key named "${argument}" in Redis (prefix ${prefix})`);
      return out(`key "${argument}" revoked; gateways refuse it within API_KEYS_CACHE_MS (default 5 s)`);
    }
    case 'list': {
      let listed: { keys: Array<{ sha256: string; grant: ApiKeyGrant }>; invalid: string[] };
      if (values.redis !== undefined) listed = await withRedis(values.redis, prefix, (store) => store.list());
      else if (values.file !== undefined)
        listed = { keys: loadApiKeysFile(values.file).map(({ sha256, ...grant }) => ({ sha256, grant })), invalid: [] };
      else throw new KeysCommandError('list needs --redis URL or --file PATH');
      for (const { sha256, grant } of listed.keys.sort((a, b) => a.grant.name.localeCompare(b.grant.name)))
        out(
          [
            grant.name,
            `models=${grant.models === '*' ? '*' : grant.models.join(',')}`,
            grant.admin ? 'admin' : '',
            grant.revoked ? 'revoked' : 'active',
            `sha256=${sha256.slice(0, 12)}…`,
          ]
            .filter(Boolean)
            .join('  '),
        );
      for (const problem of listed.invalid) out(`invalid (its key is refused): ${problem}`);
      return;
    }
    default:
      throw new KeysCommandError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function optionalNumber<K extends string>(flag: string, raw: string | undefined, key: K): Partial<Record<K, number>> {
  if (raw === undefined) return {};
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new KeysCommandError(`--${flag} ${raw}: use a positive integer`);
  return { [key]: value } as Partial<Record<K, number>>;
}

async function withRedis<T>(url: string, prefix: string, use: (keys: RedisApiKeys) => Promise<T>): Promise<T> {
  // One try: a CLI should say at once that Redis is not there, not retry in silence.
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {}); // the command's own failure says what went wrong
  try {
    await redis.connect().catch((error: unknown) => {
      throw new KeysCommandError(`cannot reach Redis at ${withoutPassword(url)}: ${(error as Error).message}`);
    });
    return await use(new RedisApiKeys(redis, prefix));
  } finally {
    redis.disconnect();
  }
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(the --redis URL)';
  }
}
