/**
 * Unknown keys, found by walking the raw YAML data alongside the schema. Kept apart from zod's parse so that a
 * typo does not hide the section it sits in: the schema's mappings strip unknown keys and parse the rest, and
 * the rules that span keys still run on them, while every typo is reported here with the closest known key.
 */
import { z } from 'zod';
import { closestName, formatPath } from './problem-text.js';
import type { ConfigProblem } from './registry-config-error.js';

export function unknownKeyProblems(schema: z.ZodType, value: unknown, at: PropertyKey[]): ConfigProblem[] {
  const inner = unwrap(schema, value);
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    return value.flatMap((item, index) => unknownKeyProblems(inner.element as z.ZodType, item, [...at, index]));
  }
  if (!(inner instanceof z.ZodObject) || !isRecord(value)) return [];
  const shape = inner.shape as Record<string, z.ZodType>;
  const known = Object.keys(shape);
  return Object.entries(value).flatMap(([key, child]) =>
    key in shape
      ? unknownKeyProblems(shape[key]!, child, [...at, key])
      : [{ path: formatPath([...at, key]), message: unknownKeyHint(key, known) }],
  );
}

/** The schema that applies to this value, through optional/nullable/default/transform wrappers and unions. */
function unwrap(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) {
    return unwrap(schema.unwrap() as z.ZodType, value);
  }
  if (schema instanceof z.ZodPipe) return unwrap(schema.in as z.ZodType, value);
  if (schema instanceof z.ZodUnion) {
    const options = (schema.options as z.ZodType[]).map((option) => unwrap(option, value));
    const objects = options.filter((option) => option instanceof z.ZodObject);
    const discriminator = (schema.def as { discriminator?: string }).discriminator;
    if (discriminator && isRecord(value)) {
      // The option the value names; a wrong type is reported by the parse, and its keys are left alone.
      return objects.find((option) => matchesDiscriminator(option, discriminator, value[discriminator]));
    }
    return objects.length === 1 ? objects[0] : undefined;
  }
  return schema;
}

function matchesDiscriminator(option: z.ZodObject, discriminator: string, value: unknown): boolean {
  const field: unknown = option.shape[discriminator];
  return field instanceof z.ZodLiteral && field.values.has(value as never);
}

function unknownKeyHint(key: string, known: string[]): string {
  const guess = closestName(key, known);
  return guess
    ? `unknown key — did you mean ${guess}?`
    : `unknown key — remove it (known keys here: ${known.join(', ')})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
