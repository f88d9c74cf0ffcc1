import { createHash } from 'node:crypto';
import { callerOfKey, type ApiKeyEntry } from './api-keys-file.js';
import type { Caller } from './caller.js';

/** The SHA-256 of a key, as the keys file stores it. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The gateway's keys, by hash: a presented key is hashed and looked up, so no stored value is ever a usable key. */
export class KeyRing {
  private readonly byHash = new Map<string, Caller>();

  constructor(entries: readonly ApiKeyEntry[], resolveModel: (name: string) => string) {
    for (const entry of entries) if (!entry.revoked) this.byHash.set(entry.sha256, callerOfKey(entry, resolveModel));
  }

  /** The caller a presented key belongs to; undefined for an unknown or revoked key. */
  find(presented: string): Caller | undefined {
    return this.byHash.get(hashApiKey(presented));
  }
}
