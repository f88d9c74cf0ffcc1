import { GatewayError } from './gateway-error.js';
import type { ChatGenerationRequest } from './inference-backend.js';
import type { OpenAiResponseFormat, TgiGrammar } from './openai-protocol.js';

/** Every field of T named (some in another form): a field added to the request cannot be forgotten in the body. */
type EveryField<T> = { [K in keyof Required<T>]: unknown };

const INCLUDE_USAGE = Object.freeze({ include_usage: true });

/**
 * The body of an OpenAI-protocol `POST /v1/chat/completions` for a gateway chat request: the fields are OpenAI's
 * already, but for `response_format`, which the gateway holds in TGI's grammar form. Streamed, with the usage asked
 * for, whether or not the client streams (as the TGI client does). JSON leaves the absent fields out.
 */
export function toChatBody(request: ChatGenerationRequest, model: string | undefined): string {
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
    response_format: request.response_format && toOpenAiResponseFormat(request.response_format),
    stream: true,
    stream_options: INCLUDE_USAGE,
  } satisfies EveryField<Omit<ChatGenerationRequest, 'kind'>> & Record<string, unknown>);
}

/**
 * TGI's grammar back in OpenAI's form, which vLLM and llama-server read: `{type: object}` alone is `json_object`, any
 * other schema `json_schema`. A regular expression has no OpenAI form (vLLM's is an extra of its own): refused.
 */
function toOpenAiResponseFormat(grammar: TgiGrammar): OpenAiResponseFormat {
  if (grammar.type === 'regex') {
    throw new GatewayError(
      'validation',
      "a regex response_format has no OpenAI-protocol form: this model's backend cannot take it",
      {
        param: 'response_format',
      },
    );
  }
  const schema = grammar.type === 'json' ? grammar.value : grammar.value.schema;
  const name = grammar.type === 'json_schema' ? grammar.value.name : undefined;
  if (name === undefined && Object.keys(schema).length === 1 && schema.type === 'object')
    return { type: 'json_object' };
  return { type: 'json_schema', json_schema: { name: name ?? 'response', schema } };
}
