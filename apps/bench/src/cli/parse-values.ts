import type { Stage } from '../load/profile.js';
import { UsageError } from './usage-error.js';

/** Parsers for flag values; each error says which flag, what was given and what to write. */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `30s`, `2m`, `1h`; a bare number is in `bareUnit`. */
export function parseDuration(flag: string, text: string, bareUnit: keyof typeof UNIT_MS = 's'): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new UsageError(`${flag} "${text}" is not a duration: write e.g. 500ms, 30s, 2m`);
  return Number(match[1]) * UNIT_MS[(match[2] ?? bareUnit) as keyof typeof UNIT_MS];
}

export function parseNumber(
  flag: string,
  text: string,
  options: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const value = Number(text);
  const { min = -Infinity, max = Infinity, integer = false } = options;
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const kind = integer ? 'an integer' : 'a number';
    const range =
      min > -Infinity && max < Infinity
        ? ` from ${min} to ${max}`
        : min > -Infinity
          ? ` ≥ ${min}`
          : max < Infinity
            ? ` ≤ ${max}`
            : '';
    throw new UsageError(`${flag} "${text}" is not valid: write ${kind}${range}`);
  }
  return value;
}

export function parseNumberList(
  flag: string,
  text: string,
  options: { min?: number; max?: number; integer?: boolean } = {},
): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === ''))
    throw new UsageError(`${flag} "${text}" is not valid: write a comma-separated list, e.g. 64,128`);
  return items.map((s) => parseNumber(flag, s, options));
}

/** `qwen2,llama3` or `qwen2:3,llama3:1` (weights, default 1). */
export function parseModelMix(text: string): Array<{ id: string; weight: number }> {
  const mix = text.split(',').map((item) => {
    const [id, weight, ...rest] = item.trim().split(':');
    if (!id || rest.length > 0)
      throw new UsageError(`--models "${text}" is not valid: write ids with optional weights, e.g. qwen2:1,llama3:1`);
    return { id, weight: weight === undefined ? 1 : parseNumber(`--models weight of ${id}`, weight, { min: 0 }) };
  });
  if (mix.every((m) => m.weight === 0)) throw new UsageError(`--models "${text}": at least one weight must be above 0`);
  return mix.filter((m) => m.weight > 0);
}

/** `1-3` (uniform between 1 and 3 s, Locust's between(1, 3)), `2` (always 2 s), `0` (none). */
export function parseThinkTime(text: string): [number, number] | null {
  const parts = text.split('-').map((s) => s.trim());
  if (parts.length > 2) throw new UsageError(`--think-time "${text}" is not valid: write seconds, e.g. 1-3 or 0`);
  const [min, max] = parts.map((p) => parseNumber('--think-time', p.replace(/s$/, ''), { min: 0 }));
  const range: [number, number] = [min!, max ?? min!];
  if (range[1] < range[0]) throw new UsageError(`--think-time "${text}": the maximum is below the minimum`);
  return range[1] === 0 ? null : range;
}

/** `30s:10,1m:10,10s:0`: each stage ramps linearly from the previous target to its own over its duration. */
export function parseStages(text: string): Stage[] {
  return text.split(',').map((item) => {
    const [duration, target, ...rest] = item.trim().split(':');
    if (duration === undefined || target === undefined || rest.length > 0) {
      throw new UsageError(`--stages "${text}" is not valid: write DURATION:TARGET pairs, e.g. 30s:10,1m:10,10s:0`);
    }
    return {
      durationMs: parseDuration('--stages', duration),
      target: parseNumber('--stages target', target, { min: 0 }),
    };
  });
}

/** `1,2,4,8`, as rates per second. */
export function parseRates(text: string): number[] {
  const rates = parseNumberList('--rates', text, { min: 0 });
  if (rates.some((r) => r <= 0)) throw new UsageError(`--rates "${text}": every rate must be above 0`);
  return rates;
}

/** `0.01` or `1%`, from 0 to 1. */
export function parseFraction(flag: string, text: string): number {
  const percent = text.trim().endsWith('%');
  const value = parseNumber(flag, percent ? text.trim().slice(0, -1) : text, { min: 0, max: percent ? 100 : 1 });
  return percent ? value / 100 : value;
}
