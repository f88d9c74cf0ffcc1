import { randomUUID } from 'node:crypto';
import type { TgiFinishReason, TgiToken } from '#backends';
import { ENGINE_VERSION } from '../engine-version.js';
import type { GenerationResult } from '../generator.js';

/**
 * The answers of TGI's OpenAI-style routes as TGI 3.x writes them (router/src/lib.rs and chat.rs; the shapes in
 * contracts/tgi-openapi.json): ChatCompletion and ChatCompletionChunk, CompletionFinal and Chunk, ModelInfo.
 */
export interface AnswerIdentity {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

export interface TgiChatLogprob {
  token: string;
  logprob: number;
  top_logprobs: Array<{ token: string; logprob: number }>;
}

export interface TgiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What one answer (and every chunk of a stream) shares; TGI's fingerprint is `{version}-{docker label|native}`. */
export function answerIdentity(model: string, prefix: 'chatcmpl' | 'cmpl'): AnswerIdentity {
  return {
    id: `${prefix}-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: `${ENGINE_VERSION}-native`,
  };
}

/** The chat routes say `stop` for an end of sequence (TGI's `FinishReason::format(true)`), the rest as they are. */
export const chatFinishReason = (reason: TgiFinishReason): string => (reason === 'eos_token' ? 'stop' : reason);

export function usageOf(result: GenerationResult): TgiUsage {
  return {
    prompt_tokens: result.inputLength,
    completion_tokens: result.tokens.length,
    total_tokens: result.inputLength + result.tokens.length,
  };
}

/** A logprob the schema can carry: a probability that underflowed to 0 is the smallest double's log. */
const logprobOf = (token: TgiToken): number => token.logprob ?? Math.log(Number.MIN_VALUE);

export function chatLogprob(token: TgiToken, top: readonly TgiToken[]): TgiChatLogprob {
  return {
    token: token.text,
    logprob: logprobOf(token),
    top_logprobs: top.map((t) => ({ token: t.text, logprob: logprobOf(t) })),
  };
}

export function chatCompletion(identity: AnswerIdentity, result: GenerationResult, logprobs: boolean) {
  return {
    ...identity,
    object: 'chat.completion' as const,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.text },
        logprobs: logprobs
          ? { content: result.tokens.map((token, i) => chatLogprob(token, result.topTokens[i] ?? [])) }
          : null,
        finish_reason: chatFinishReason(result.finishReason),
      },
    ],
    usage: usageOf(result),
  };
}

/** One token's chunk: every delta names the role, as TGI's do; the last one carries the finish reason. */
export function chatChunk(
  identity: AnswerIdentity,
  content: string,
  logprob: TgiChatLogprob | null,
  finishReason: TgiFinishReason | null,
) {
  return {
    ...identity,
    object: 'chat.completion.chunk' as const,
    choices: [
      {
        index: 0,
        delta: { role: 'assistant', content },
        logprobs: logprob ? { content: [logprob] } : null,
        finish_reason: finishReason === null ? null : chatFinishReason(finishReason),
      },
    ],
    usage: null,
  };
}

/** With `stream_options.include_usage`: after the last token's chunk, no choices and the usage. */
export function chatUsageChunk(identity: AnswerIdentity, result: GenerationResult) {
  return { ...identity, object: 'chat.completion.chunk' as const, choices: [], usage: usageOf(result) };
}

/** /v1/completions' answer, and the last event of its stream (TGI sends the final token's text with the usage). */
export function completionFinal(identity: AnswerIdentity, text: string, result: GenerationResult) {
  return {
    ...identity,
    object: 'text_completion' as const,
    choices: [{ index: 0, text, logprobs: null, finish_reason: result.finishReason }],
    usage: usageOf(result),
  };
}

/** A token of /v1/completions' stream; TGI leaves the finish reason an empty string until the final event. */
export function completionChunk(identity: AnswerIdentity, text: string) {
  return {
    ...identity,
    object: 'text_completion' as const,
    choices: [{ index: 0, text, logprobs: null, finish_reason: '' }],
  };
}
