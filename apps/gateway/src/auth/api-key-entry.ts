import { z } from 'zod';
import type { Caller } from './caller.js';

const positive = z.number().int().positive();

/** What a key may do, wherever it is stored (the keys file, or Redis where its hash is the field). */
export const apiKeyGrantSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1 to 64 letters, digits, ".", "_" or "-"'),
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

/** A key as the keys file lists it: its grant and the SHA-256 of the key, never the key itself. */
export const apiKeyEntrySchema = apiKeyGrantSchema.extend({
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the SHA-256 of the key in lowercase hex (64 characters): `npm run keys -- hash`'),
});

export type ApiKeyGrant = z.infer<typeof apiKeyGrantSchema>;
export type ApiKeyEntry = z.infer<typeof apiKeyEntrySchema>;

/** Each problem of a failed parse on one line, with its place. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.join('.') || '(top)'}: ${issue.message}`).join('\n');
}

/**
 * The caller a key's grant stands for. `resolveModel` turns an alias into its canonical id (unknown names are kept,
 * so a key may name a model before it is served).
 */
export function callerOfKey(grant: ApiKeyGrant, resolveModel: (name: string) => string): Caller {
  const { requests_per_minute, tokens_per_minute, max_concurrent } = grant.limits;
  return {
    id: grant.name,
    keyed: true,
    admin: grant.admin,
    models: grant.models === '*' ? '*' : [...new Set(grant.models.map(resolveModel))],
    weight: grant.weight,
    limits: {
      ...(requests_per_minute !== undefined ? { requestsPerMinute: requests_per_minute } : {}),
      ...(tokens_per_minute !== undefined ? { tokensPerMinute: tokens_per_minute } : {}),
      ...(max_concurrent !== undefined ? { maxConcurrent: max_concurrent } : {}),
    },
  };
}
