import { createHash } from 'node:crypto';
import { callerOfKey, type ApiKeyEntry } from './api-key-entry.js';
import type { Caller } from './caller.js';

/** The SHA-256 of a key, as the keys file and Redis store it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** What a key's hash is to a ring: a caller, a key it holds as revoked, or unknown to it. */
export type RingAnswer = Caller | 'revoked' | undefined;

/** The keys file's keys, by hash: a presented key is hashed and looked up, so no stored value is ever a usable key. */
export class KeyRing {
  private readonly byHash = new Map<string, Caller | 'revoked'>();

  constructor(entries: readonly ApiKeyEntry[], resolveModel: (name: string) => string) {
    for (const entry of entries)
      this.byHash.set(entry.sha256, entry.revoked ? 'revoked' : callerOfKey(entry, resolveModel));
  }

  find(sha256: string): RingAnswer {
    return this.byHash.get(sha256);
  }

  /** Keys that open the gateway (revoked ones left out). */
  get usable(): number {
    let count = 0;
    for (const value of this.byHash.values()) if (value !== 'revoked') count++;
    return count;
  }
}
