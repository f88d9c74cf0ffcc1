import type http from 'node:http';
import type { TgiErrorType, TgiFinishReason, TgiToken } from '../tgi-protocol.js';
import type { StandInScript } from './tgi-stand-in.js';

/**
 * What the TGI stand-in's generation routes share: each one (TGI's generate routes, its Messages API) reads its body
 * into a plan of tokens, and says how a token, an error and the end go on its wire. The stand-in runs the plan and
 * the script's misbehaviours the same way for every route.
 */
export interface TokenPlan {
  tokens: TgiToken[];
  finishReason: TgiFinishReason;
  inputLength: number;
}

export interface StandInRoute<P extends TokenPlan> {
  /** Whether this request's answer is a stream (known before its body is checked). */
  streams(body: unknown): boolean;
  /** TGI's checks on the fields the stand-in reads, then the tokens it will send. Throws a RequestFailure. */
  plan(body: unknown, script: StandInScript): P;
  /** What the stream carries for token `i` (for the last one, whatever ends the answer too). */
  tokenEvents(plan: P, i: number): object[];
  /** An error inside a 200 stream, as this route sends it. */
  errorEvent(errorType: TgiErrorType, message: string, script: StandInScript): object;
  /** What follows the last event, an error event's too ('' for nothing). */
  streamEnd(script: StandInScript): string;
  /** The answer of a call that does not stream. */
  answer(plan: P): { body: unknown; headers?: Record<string, string> };
}

/**
 * TGI's InferError for a request it will not run: sent as an event in a 200 stream or with its status, as the route
 * does every error; `beforeStream` ones (the body did not even deserialize) always with their status.
 */
export class RequestFailure extends Error {
  constructor(
    readonly errorType: TgiErrorType,
    message: string,
    readonly beforeStream = false,
  ) {
    super(message);
  }
}

export const DEFAULT_TOKENS = ['Hello', ',', ' world'];
export const EOS_TOKEN: TgiToken = { id: 2, text: '</s>', logprob: -0.01, special: true };
export const STATUS_FOR_ERROR: Record<TgiErrorType, number> = {
  validation: 422,
  overloaded: 429,
  generation: 424,
  incomplete_generation: 500,
};

/** The script's tokens, cut at `max_new_tokens`, with TGI's end token when the model stopped by itself. */
export function plannedTokens(script: StandInScript, maxNewTokens: unknown): Omit<TokenPlan, 'inputLength'> {
  if (
    maxNewTokens !== null &&
    maxNewTokens !== undefined &&
    (typeof maxNewTokens !== 'number' || !Number.isInteger(maxNewTokens) || maxNewTokens <= 0)
  ) {
    throw new RequestFailure('validation', 'Input validation error: `max_new_tokens` must be strictly positive');
  }
  const limit = typeof maxNewTokens === 'number' ? maxNewTokens : Number.MAX_SAFE_INTEGER;
  const texts = script.tokens ?? DEFAULT_TOKENS;
  const finishReason = script.finishReason ?? (texts.length >= limit ? 'length' : 'eos_token');
  const tokens = texts
    .slice(0, limit)
    .map((text, i): TgiToken => ({ id: 1000 + i, text, logprob: -0.5, special: false }));
  if (finishReason === 'eos_token' && tokens.length < limit) tokens.push({ ...EOS_TOKEN });
  return { tokens, finishReason };
}

/** The stand-in's "tokenizer": whitespace-separated words. */
export function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

export function defaultMessage(errorType: TgiErrorType): string {
  switch (errorType) {
    case 'validation':
      return 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048';
    case 'overloaded':
      return 'Model is overloaded';
    case 'generation':
      return 'Request failed during generation: Server error: CUDA out of memory';
    case 'incomplete_generation':
      return 'Incomplete generation';
  }
}

/** axum's SSE framing, which TGI uses: `data:` without a space, a blank line after each event. */
export function sseEvent(data: object | string): string {
  return `data:${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export function startSse(res: http.ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-compute-type': 'stand-in',
  });
  res.flushHeaders();
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
