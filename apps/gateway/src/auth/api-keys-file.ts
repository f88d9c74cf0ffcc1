import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import type { Caller } from './caller.js';

/**
 * The keys file (API_KEYS_FILE): each key by name, stored only as the SHA-256 of the key (keys are long random
 * strings, so a fast hash is enough; the file never holds a usable key), with its scope, weight and limits.
 *
 * ```yaml
 * keys:
 *   - name: team-a
 *     sha256: 3b5d…                       # `npm run keys -- new team-a` prints a key and this line
 *     models: [qwen2]                     # canonical ids or aliases; '*' (the default) for every model
 *     admin: false                        # /models details and admin actions
 *     weight: 1                           # its share of turns in a model's queue
 *     limits: { requests_per_minute: 60, tokens_per_minute: 20000, max_concurrent: 4 }
 * ```
 */
const positive = z.number().int().positive();
const keySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1 to 64 letters, digits, ".", "_" or "-"'),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the key in lowercase hex (64 characters): `npm run keys -- hash`'),
  models: z.union([z.literal('*'), z.array(z.string().min(1)).min(1)]).default('*'),
  admin: z.boolean().default(false),
  weight: positive.max(100).default(1),
  revoked: z.boolean().default(false),
  limits: z
    .strictObject({
      requests_per_minute: positive.optional(),
      tokens_per_minute: positive.optional(),
      max_concurrent: positive.optional(),
    })
    .default({}),
});
const fileSchema = z.strictObject({ keys: z.array(keySchema) });

export type ApiKeyEntry = z.infer<typeof keySchema>;

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
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new ApiKeysFileError(`${source}: invalid keys file:\n${problems.join('\n')}`);
  }
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

/**
 * The caller a key entry stands for. `resolveModel` turns an alias into its canonical id (unknown names are kept,
 * so a key may name a model before it is served).
 */
export function callerOfKey(entry: ApiKeyEntry, resolveModel: (name: string) => string): Caller {
  const { requests_per_minute, tokens_per_minute, max_concurrent } = entry.limits;
  return {
    id: entry.name,
    keyed: true,
    admin: entry.admin,
    models: entry.models === '*' ? '*' : [...new Set(entry.models.map(resolveModel))],
    weight: entry.weight,
    limits: {
      ...(requests_per_minute !== undefined ? { requestsPerMinute: requests_per_minute } : {}),
      ...(tokens_per_minute !== undefined ? { tokensPerMinute: tokens_per_minute } : {}),
      ...(max_concurrent !== undefined ? { maxConcurrent: max_concurrent } : {}),
    },
  };
}
