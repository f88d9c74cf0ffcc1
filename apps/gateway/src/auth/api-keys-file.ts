import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { apiKeyEntrySchema, describeIssues, type ApiKeyEntry } from './api-key-entry.js';

/**
 * The keys file (API_KEYS_FILE): each key by name, stored only as the SHA-256 of the key (keys are long random
 * strings, so a fast hash is enough; the file never holds a usable key), with its scope, weight and limits.
 *
 * ```yaml
 * keys:
 *   - name: team-a
 *     sha256: 3b5d…                       # `npm run keys -- new team-a` prints a key and this entry
 *     models: [qwen2]                     # canonical ids or aliases; '*' (the default) for every model
 *     admin: false                        # /models details and admin actions
 *     weight: 1                           # its share of turns in a model's queue
 *     limits: { requests_per_minute: 60, tokens_per_minute: 20000, max_concurrent: 4 }
 * ```
 */
const fileSchema = z.strictObject({ keys: z.array(apiKeyEntrySchema) });

export class ApiKeysFileError extends Error {}

/** Reads and checks a keys file; every problem is named with its place. */
export function loadApiKeysFile(path: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ApiKeysFileError(`${path}: cannot read the keys file (${(error as Error).message})`);
  }
  return parseApiKeys(text, path);
}

export function parseApiKeys(text: string, source: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    throw new ApiKeysFileError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new ApiKeysFileError(`${source}: invalid keys file:\n${describeIssues(parsed.error)}`);
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const key of parsed.data.keys) {
    if (names.has(key.name)) throw new ApiKeysFileError(`${source}: key name "${key.name}" is used twice`);
    if (hashes.has(key.sha256)) throw new ApiKeysFileError(`${source}: key "${key.name}" has another key's sha256`);
    names.add(key.name);
    hashes.add(key.sha256);
  }
  return parsed.data.keys;
}
