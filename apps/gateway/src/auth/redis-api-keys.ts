import type { Redis } from 'ioredis';
import { apiKeyGrantSchema, describeIssues, type ApiKeyGrant } from './api-key-entry.js';

export class RedisApiKeyError extends Error {}

/** A key kept in Redis: the hash field, and the grant stored as its JSON value. */
export interface StoredApiKey {
  sha256: string;
  grant: ApiKeyGrant;
}

/**
 * Keys in Redis, shared by every replica that uses the same REDIS_URL and DISPATCH_PREFIX: one hash,
 * `<prefix>:api-keys`, whose fields are the SHA-256 of each key and whose values are the key's grant as JSON (the
 * keys file's fields less `sha256`). The gateway reads one field per presented key; the keys CLI writes them.
 */
export class RedisApiKeys {
  readonly hashKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.hashKey = `${prefix}:api-keys`;
  }

  /** The grant stored for a key's hash; undefined when none is. A value that is not a grant is an error. */
  async grant(sha256: string): Promise<ApiKeyGrant | undefined> {
    const value = await this.redis.hget(this.hashKey, sha256);
    return value === null ? undefined : this.parse(sha256, value);
  }

  /** Every stored key, and apart the values that are not key entries (one bad value must not hide the rest). */
  async list(): Promise<{ keys: StoredApiKey[]; invalid: string[] }> {
    const keys: StoredApiKey[] = [];
    const invalid: string[] = [];
    for (const [sha256, value] of Object.entries(await this.redis.hgetall(this.hashKey))) {
      try {
        keys.push({ sha256, grant: this.parse(sha256, value) });
      } catch (error) {
        if (!(error instanceof RedisApiKeyError)) throw error;
        invalid.push(error.message);
      }
    }
    return { keys, invalid };
  }

  /** Stores a new key; a name or hash already stored (revoked ones too) is refused, so names stay unique. */
  async add(sha256: string, grant: ApiKeyGrant): Promise<void> {
    const checked = apiKeyGrantSchema.parse(grant);
    if ((await this.list()).keys.some((stored) => stored.grant.name === checked.name))
      throw new RedisApiKeyError(`a key named "${checked.name}" is already in ${this.hashKey}: pick another name`);
    const added = await this.redis.hsetnx(this.hashKey, sha256, JSON.stringify(checked));
    if (added === 0) throw new RedisApiKeyError(`this key's hash is already in ${this.hashKey}`);
  }

  /** Marks the key of this name revoked (kept, so the name is not reused by mistake); false when there is none. */
  async revoke(name: string): Promise<boolean> {
    const stored = (await this.list()).keys.find((key) => key.grant.name === name);
    if (!stored) return false;
    await this.redis.hset(this.hashKey, stored.sha256, JSON.stringify({ ...stored.grant, revoked: true }));
    return true;
  }

  private parse(sha256: string, value: string): ApiKeyGrant {
    let raw: unknown;
    try {
      raw = JSON.parse(value);
    } catch {
      throw new RedisApiKeyError(`${this.hashKey} ${sha256}: the value is not JSON`);
    }
    const parsed = apiKeyGrantSchema.safeParse(raw);
    if (!parsed.success)
      throw new RedisApiKeyError(`${this.hashKey} ${sha256}: not a key entry:\n${describeIssues(parsed.error)}`);
    return parsed.data;
  }
}
