import type { z } from 'zod';
import { formatPath } from './problem-text.js';
import type { ConfigProblem } from './registry-config-error.js';
import { unknownKeyProblems } from './unknown-keys.js';

type ParseResult<T> = { data: T | undefined; problems: ConfigProblem[] };

/**
 * Parses one section of the config; problems carry the full key path from the top of the file. Data comes
 * back whenever the values are valid, even with unknown keys beside them, so that later rules still run.
 */
export function parseSection<S extends z.ZodType>(
  schema: S,
  value: unknown,
  at: PropertyKey[],
): ParseResult<z.output<S>> {
  const result = schema.safeParse(value);
  const typos = unknownKeyProblems(schema, value, at);
  if (result.success) return { data: result.data, problems: typos };
  return { data: undefined, problems: [...typos, ...result.error.issues.map((issue) => zodProblem(issue, at))] };
}

function zodProblem(issue: z.core.$ZodIssue, at: PropertyKey[]): ConfigProblem {
  const path = [...at, ...issue.path];
  return { path: path.length === 0 ? '(top level)' : formatPath(path), message: issue.message };
}
