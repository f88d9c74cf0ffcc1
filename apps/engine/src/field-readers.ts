import { validationError } from './errors.js';

/** Reads one field of a JSON body, or refuses it with TGI's validation error naming the field. */
export type Reader<T> = (value: unknown, field: string) => T;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optional<T>(value: unknown, field: string, read: Reader<T>): T | undefined {
  return value === undefined || value === null ? undefined : read(value, field);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export const str: Reader<string> = (value, field) => {
  if (typeof value !== 'string') throw validationError(`\`${field}\` must be a string, got ${describe(value)}`);
  return value;
};

export const bool: Reader<boolean> = (value, field) => {
  if (typeof value !== 'boolean') throw validationError(`\`${field}\` must be a boolean, got ${describe(value)}`);
  return value;
};

export const num: Reader<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw validationError(`\`${field}\` must be a number, got ${describe(value)}`);
  return value;
};

export const int: Reader<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw validationError(
      `\`${field}\` must be an integer, got ${typeof value === 'number' ? String(value) : describe(value)}`,
    );
  }
  return value;
};

export const stringArray: Reader<string[]> = (value, field) => {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) {
    throw validationError(`\`${field}\` must be an array of strings`);
  }
  return value as string[];
};
