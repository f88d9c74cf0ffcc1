import { GatewayError } from './gateway-error.js';
import { chatCompletionBody } from './chat-completion-body.js';
import type { ChatGenerationRequest } from './inference-backend.js';
import type { OpenAiResponseFormat, TgiGrammar } from './openai-protocol.js';

/**
 * The body of an OpenAI-protocol `POST /v1/chat/completions` for a gateway chat request: the fields are OpenAI's
 * already, but for `response_format`, which the gateway holds in TGI's grammar form.
 */
export function toChatBody(request: ChatGenerationRequest, model: string | undefined, stream = true): string {
  const responseFormat = request.response_format && toOpenAiResponseFormat(request.response_format);
  return chatCompletionBody(request, model, responseFormat, stream);
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
