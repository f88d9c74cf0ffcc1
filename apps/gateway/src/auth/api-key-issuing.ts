import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { apiKeyGrantSchema, describeIssues, type ApiKeyEntry, type ApiKeyGrant } from './api-key-entry.js';
import { hashApiKey } from './key-ring.js';

/** Every key starts so: a leaked one is recognisable (secret scanners, logs) and says where it belongs. */
export const API_KEY_PREFIX = 'sk-sluice-';

/** A fresh key: 32 random bytes (256 bits), so a fast hash is all its storage needs. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export class InvalidGrantError extends Error {}

export interface GrantOptions {
  models?: string[];
  admin?: boolean;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  maxConcurrent?: number;
  weight?: number;
}

/** A key's grant from the CLI's options, checked as the keys file would check it. */
export function grantOf(name: string, options: GrantOptions): ApiKeyGrant {
  const parsed = apiKeyGrantSchema.safeParse({
    name,
    models: options.models && options.models.length > 0 ? options.models : '*',
    admin: options.admin ?? false,
    weight: options.weight ?? 1,
    limits: {
      ...(options.requestsPerMinute !== undefined ? { requests_per_minute: options.requestsPerMinute } : {}),
      ...(options.tokensPerMinute !== undefined ? { tokens_per_minute: options.tokensPerMinute } : {}),
      ...(options.maxConcurrent !== undefined ? { max_concurrent: options.maxConcurrent } : {}),
    },
  });
  if (!parsed.success)
    throw new InvalidGrantError(`the key "${name}" cannot be made:\n${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The entry of a key for the keys file: its grant and hash, never the key. */
export function entryOf(key: string, grant: ApiKeyGrant): ApiKeyEntry {
  return { ...grant, sha256: hashApiKey(key), revoked: false };
}

/** The entry as a list item to paste under `keys:` in the keys file (defaults left out). */
export function entryYaml(entry: ApiKeyEntry): string {
  const { name, sha256, models, admin, weight, limits } = entry;
  const shown = {
    name,
    sha256,
    models,
    ...(admin ? { admin } : {}),
    ...(weight !== 1 ? { weight } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
  return YAML.stringify([shown], { flowCollectionPadding: false })
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
