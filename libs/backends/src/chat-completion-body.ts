import type { ChatGenerationRequest } from './inference-backend.js';

/** Every field of T named (some in another form): a field added to the request cannot be forgotten in the body. */
type EveryField<T> = { [K in keyof Required<T>]: unknown };

const INCLUDE_USAGE = Object.freeze({ include_usage: true });

/**
 * The body of a `POST /v1/chat/completions` to a backend (TGI's Messages API or an OpenAI-protocol server): streamed
 * with the usage asked for, or (`stream: false`, when nobody reads the tokens before the end) one answer, which
 * carries its usage anyway (OpenAI refuses `stream_options` then). `responseFormat` is the request's in the form the
 * backend reads. Field by field into one object literal (no rest and spread copies: this is per request); JSON leaves
 * the absent ones out.
 */
export function chatCompletionBody(
  request: ChatGenerationRequest,
  model: string | undefined,
  responseFormat: unknown,
  stream = true,
): string {
  return JSON.stringify({
    model,
    messages: request.messages,
    max_tokens: request.max_tokens,
    temperature: request.temperature,
    top_p: request.top_p,
    seed: request.seed,
    stop: request.stop,
    presence_penalty: request.presence_penalty,
    frequency_penalty: request.frequency_penalty,
    logprobs: request.logprobs,
    top_logprobs: request.top_logprobs,
    response_format: responseFormat,
    stream,
    stream_options: stream ? INCLUDE_USAGE : undefined,
  } satisfies EveryField<Omit<ChatGenerationRequest, 'kind'>> & Record<string, unknown>);
}
