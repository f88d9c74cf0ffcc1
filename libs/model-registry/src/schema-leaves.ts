/**
 * Zod building blocks whose errors read `<value> is not <what> — <fix>`, so that every problem names the
 * value and the fix (zod's own messages name neither). The key path is added by zod-problems.ts.
 */
import { z } from 'zod';
import { showValue } from './problem-text.js';

type IssueLike = { input?: unknown };

/** An error map for one key: missing, or the value with what it should be and how to fix it. */
export function expecting(what: string, fix: string): (issue: IssueLike) => string {
  return (issue) =>
    issue.input === undefined ? `missing — ${fix}` : `${showValue(issue.input)} is not ${what} — ${fix}`;
}

export function wholeNumber(min: number, fix: string, max?: number) {
  const what = max === undefined ? `a whole number of ${min} or more` : `a whole number from ${min} to ${max}`;
  const error = expecting(what, fix);
  const schema = z.int({ error }).min(min, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

export function positiveNumber(fix: string) {
  const error = expecting('a number above 0', fix);
  return z.number({ error }).positive({ error });
}

export function nonNegativeNumber(fix: string) {
  const error = expecting('a number of 0 or more', fix);
  return z.number({ error }).min(0, { error });
}

export function matching(pattern: RegExp, what: string, fix: string) {
  const error = expecting(what, fix);
  return z.string({ error }).regex(pattern, { error });
}

export function nonEmptyText(fix: string) {
  return matching(/\S/, 'a non-empty text', fix);
}

/** An absolute http(s) URL; the trailing slash is dropped so that clients can append /generate. */
export function httpUrl(fix: string) {
  const error = expecting('an absolute http(s) URL', fix);
  return z
    .string({ error })
    .refine(isHttpUrl, { error })
    .transform((url) => url.replace(/\/+$/, ''));
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** A duration such as 30s, 5m, 1h or 500ms, read as milliseconds. */
export function duration(fix: string) {
  const error = expecting('a duration such as 30s, 5m, 1h or 500ms', fix);
  return z
    .string({ error })
    .regex(/^\d+(?:\.\d+)?(?:ms|s|m|h)$/, { error })
    .transform((text) => {
      const [, amount, unit] = /^([\d.]+)(ms|s|m|h)$/.exec(text)!;
      return Math.round(Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS]);
    });
}

/** GPU ids are text ("0", "GPU-3f2c..."); a bare YAML number such as `0` is accepted and read as "0". */
export function gpuId(fix: string) {
  const error = expecting('a GPU id (text such as "0", or a whole number)', fix);
  return z.union([z.string().regex(/\S/), z.int().min(0)], { error }).transform(String);
}

/**
 * A YAML mapping. Unknown keys are dropped here and reported by unknown-keys.ts, so that a typo does not
 * stop the rest of the mapping from being checked.
 */
export function mapping<Shape extends z.ZodRawShape>(shape: Shape, fix: string) {
  return z.object(shape, { error: expecting('a mapping', fix) });
}
