import type { RequestRecord } from './request-record.js';

/** A synthetic request for the metric specs: a success unless overridden. */
export function syntheticRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 0,
    model: 'qwen2',
    scenario: 'qa',
    lang: 'zh',
    stream: true,
    max_new_tokens: 64,
    intended_ms: 0,
    sent_ms: 0,
    first_token_ms: null,
    token_ms: [],
    end_ms: 100,
    status: 200,
    ok: true,
    error_type: null,
    error: null,
    usage: { input_tokens: 10, output_tokens: 1 },
    server: null,
    warmup: false,
    ...overrides,
  };
}

/** A streamed success whose token events arrived at `tokens` (ms), with usage.output_tokens = tokens.length. */
export function streamedRecord(
  intended: number,
  tokens: number[],
  overrides: Partial<RequestRecord> = {},
): RequestRecord {
  return syntheticRecord({
    intended_ms: intended,
    sent_ms: intended,
    first_token_ms: tokens[0] ?? null,
    token_ms: tokens,
    end_ms: (tokens.at(-1) ?? intended) + 1,
    usage: { input_tokens: 10, output_tokens: tokens.length },
    ...overrides,
  });
}
