import { Redis } from 'ioredis';
import type { GatewayConfig } from '../gateway-config.js';
import type { Caller } from './caller.js';
import { loadApiKeysFile } from './api-keys-file.js';
import { hashApiKey, KeyRing } from './key-ring.js';
import { watchKeysFile, type KeysFileWatch } from './keys-file-watcher.js';
import { RedisApiKeys } from './redis-api-keys.js';
import { RedisKeyLookup } from './redis-key-lookup.js';

export interface ApiKeysLog {
  log(message: string): void;
  error(message: string): void;
}

/**
 * The keys a gateway accepts: the keys file's (reloaded when it changes) and, with API_KEYS_REDIS=on, those in
 * Redis. A key the file lists as revoked stays refused whatever Redis holds.
 */
export class ApiKeys {
  private constructor(
    private ring: KeyRing | undefined,
    private readonly redis: RedisKeyLookup | undefined,
    private readonly closers: Array<() => Promise<void> | void>,
    /** Where the keys come from, for the start-up log. */
    readonly source: string,
  ) {}

  /** The caller a presented key belongs to; undefined for an unknown or revoked key. */
  async find(presented: string): Promise<Caller | undefined> {
    const sha256 = hashApiKey(presented);
    const inFile = this.ring?.find(sha256);
    if (inFile === 'revoked') return undefined;
    return inFile ?? this.redis?.find(sha256);
  }

  async close(): Promise<void> {
    for (const close of this.closers) await close();
  }

  /**
   * The keys the config names (API_KEYS_FILE, API_KEYS_REDIS); undefined without any, or with AUTH=off. A keys
   * file that cannot be read or is not valid throws ApiKeysFileError: the gateway must not start on it.
   */
  static open(config: GatewayConfig, resolveModel: (name: string) => string, log: ApiKeysLog): ApiKeys | undefined {
    if (config.authOff || (config.apiKeysFile === undefined && !config.apiKeysRedis)) return undefined;
    const closers: Array<() => Promise<void> | void> = [];
    const sources: string[] = [];
    let ring: KeyRing | undefined;
    const { apiKeysFile } = config;
    if (apiKeysFile !== undefined) {
      ring = new KeyRing(loadApiKeysFile(apiKeysFile), resolveModel);
      sources.push(`${apiKeysFile} (${ring.usable} keys, reloaded on change)`);
    }
    let redis: RedisKeyLookup | undefined;
    if (config.apiKeysRedis && config.redisUrl) {
      const connection = keysConnection(config.redisUrl);
      connection.on('error', () => {}); // each failed lookup answers 503; the dispatch queue logs the outage
      closers.push(() => void connection.disconnect());
      const store = new RedisApiKeys(connection, config.dispatchPrefix);
      redis = new RedisKeyLookup(store, {
        cacheMs: config.apiKeysCacheMs,
        resolveModel,
        onInvalidEntry: (message) => log.error(message),
      });
      sources.push(`Redis ${store.hashKey} (cached ${config.apiKeysCacheMs} ms)`);
    }
    const keys = new ApiKeys(ring, redis, closers, sources.join(' and '));
    if (apiKeysFile !== undefined) {
      const watch: KeysFileWatch = watchKeysFile(
        apiKeysFile,
        (entries) => {
          keys.ring = new KeyRing(entries, resolveModel);
          log.log(`keys file ${apiKeysFile} reloaded: ${keys.ring.usable} keys`);
        },
        (message) => log.error(message),
      );
      closers.push(() => watch.stop());
    }
    return keys;
  }
}

/**
 * While Redis is away a lookup fails (503) at the first failed reconnection instead of waiting for it: no retries per
 * command. The offline queue stays on, so the lookups of a gateway's first moments wait for its first connection.
 */
function keysConnection(url: string): Redis {
  return new Redis(url, {
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
  });
}
