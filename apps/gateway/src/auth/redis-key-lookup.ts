import { GatewayError } from '#backends';
import { callerOfKey } from './api-key-entry.js';
import type { Caller } from './caller.js';
import { RedisApiKeyError, type RedisApiKeys } from './redis-api-keys.js';

/** Enough for every real key and then some; past it the oldest answers go first (a Map keeps insertion order). */
const MAX_CACHED = 10_000;

export interface RedisKeyLookupOptions {
  /** How long an answer (found or not) is reused: the longest a revocation or a new key takes to reach this replica. */
  cacheMs: number;
  resolveModel: (name: string) => string;
  /** A stored value that is not a key entry: its key is refused, and the operator told. */
  onInvalidEntry: (message: string) => void;
  now?: () => number;
}

/**
 * The gateway's reading of the keys in Redis: one HGET per presented key per cache period, so a request usually
 * costs none, and adding or revoking a key reaches every replica within `cacheMs` without a restart. While Redis
 * does not answer, a key not in the cache is refused with 503, never let through.
 */
export class RedisKeyLookup {
  private readonly cache = new Map<string, { at: number; caller: Caller | undefined }>();
  private readonly pending = new Map<string, Promise<Caller | undefined>>();
  private readonly now: () => number;

  constructor(
    private readonly store: RedisApiKeys,
    private readonly options: RedisKeyLookupOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  find(sha256: string): Promise<Caller | undefined> {
    const cached = this.cache.get(sha256);
    if (cached && this.now() - cached.at < this.options.cacheMs) return Promise.resolve(cached.caller);
    // A burst of requests with one new key asks Redis once.
    let lookup = this.pending.get(sha256);
    if (!lookup) {
      lookup = this.read(sha256).finally(() => this.pending.delete(sha256));
      this.pending.set(sha256, lookup);
    }
    return lookup;
  }

  private async read(sha256: string): Promise<Caller | undefined> {
    const at = this.now();
    let caller: Caller | undefined;
    try {
      const grant = await this.store.grant(sha256);
      caller = grant && !grant.revoked ? callerOfKey(grant, this.options.resolveModel) : undefined;
    } catch (error) {
      if (!(error instanceof RedisApiKeyError))
        throw new GatewayError('unavailable', 'the API key cannot be checked: the keys store (Redis) does not answer', {
          retryAfterS: 1,
          cause: error,
        });
      this.options.onInvalidEntry(error.message);
      caller = undefined;
    }
    if (this.options.cacheMs > 0) {
      this.cache.delete(sha256);
      this.cache.set(sha256, { at, caller });
      if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    }
    return caller;
  }
}
