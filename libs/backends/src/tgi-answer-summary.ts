import { decodedString, INTEGER, JSON_CHARS } from './json-patterns.js';
import type { TgiDetails, TgiFinishReason } from './tgi-protocol.js';

/** What a generation's outcome reads of `/generate`'s details when its client did not ask for them. */
export type TgiDetailsSummary = Pick<TgiDetails, 'finish_reason' | 'generated_tokens' | 'seed'>;

/** A GenerateResponse as the outcome reads it: its text, and its details whole or only their summary. */
export interface TgiGenerateAnswer {
  generated_text: string;
  details?: TgiDetails | TgiDetailsSummary | null;
}

const FINISH_REASONS = new Set<unknown>(['length', 'eos_token', 'stop_sequence'] satisfies TgiFinishReason[]);

/** Where TGI's details turn from their summary to their token lists (see `generateAnswerSummary`). */
const PREFILL_MEMBER = ',"prefill":';

/** The summary up to `,"prefill":` as TGI writes it: the text, the finish reason, the count and the seed captured. */
const PLAIN_SUMMARY = new RegExp(
  `^\\{"generated_text":"(${JSON_CHARS})","details":\\{"finish_reason":"(${[...FINISH_REASONS].join('|')})"` +
    `,"generated_tokens":(${INTEGER}),"seed":(null|${INTEGER}),"prefill":`,
);

/**
 * TGI's `/generate` answer read without its token lists, which are most of its bytes (an object per token): TGI writes
 * a GenerateResponse's members in its struct's order, `generated_text`, then `details` with `finish_reason`,
 * `generated_tokens` and `seed` before `prefill` and `tokens`. So the text up to `,"prefill":`, closed with `}}`,
 * is the answer without them. Inside a JSON string every quote is escaped, so that key is structure, never text; the
 * cut parses only where it falls two objects deep, and every member read is checked and present. Undefined for an answer in any
 * other form (another order, spaces, no details): the caller parses it whole.
 */
export function generateAnswerSummary(
  text: string,
): { generated_text: string; details: TgiDetailsSummary } | undefined {
  // TGI's own spelling, no spaces and an integer seed or none, is matched without parsing it (json-patterns.ts).
  const plain = PLAIN_SUMMARY.exec(text);
  if (plain !== null) {
    const [, generatedText, finishReason, generatedTokens, seed] = plain;
    return {
      generated_text: decodedString(generatedText!),
      details: {
        finish_reason: finishReason as TgiFinishReason,
        generated_tokens: Number(generatedTokens),
        seed: seed === 'null' ? null : Number(seed),
      },
    };
  }
  const cut = text.indexOf(PREFILL_MEMBER);
  if (cut === -1) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(`${text.slice(0, cut)}}}`);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { generated_text, details } = value as { generated_text?: unknown; details?: unknown };
  if (typeof generated_text !== 'string' || !isDetailsSummary(details)) return undefined;
  // TGI always writes `seed` (null without one): a summary without it may have left it after the cut.
  const { finish_reason, generated_tokens, seed } = details;
  if (seed === undefined) return undefined;
  return { generated_text, details: { finish_reason, generated_tokens, seed } };
}

/** The members of TGI Details that come before the token lists, as the outcome reads them. */
export function isDetailsSummary(value: unknown): value is TgiDetailsSummary {
  if (typeof value !== 'object' || value === null) return false;
  const { finish_reason, generated_tokens, seed } = value as Record<string, unknown>;
  return (
    FINISH_REASONS.has(finish_reason) &&
    Number.isInteger(generated_tokens) &&
    (generated_tokens as number) >= 0 &&
    (seed == null || typeof seed === 'number')
  );
}
