import type { ChatGenerationRequest, TgiGrammar } from '#backends';
import type { ChatCompletionRequestDto, ChatMessageDto } from './chat-completion-request.dto.js';
import { checkStreamOptions, given, refuse, stopSequences } from './openai-request-rules.js';

/** The tokens a chat request asks for: `max_completion_tokens` or the older `max_tokens`; both must agree. */
export function askedChatTokens(body: ChatCompletionRequestDto): { asked?: number; param: string } {
  const newer = given(body.max_completion_tokens);
  const older = given(body.max_tokens);
  if (newer !== undefined && older !== undefined && newer !== older)
    refuse('max_tokens', `max_tokens ${older} and max_completion_tokens ${newer} disagree: send one of them`);
  if (newer !== undefined) return { asked: newer, param: 'max_completion_tokens' };
  return { asked: older, param: 'max_tokens' };
}

/**
 * A validated chat body as the backend's chat request, with the model's resolved token budget: text parts flattened,
 * top_p 1 dropped (TGI refuses it), response_format in TGI's grammar form.
 */
export function toChatGenerationRequest(body: ChatCompletionRequestDto, maxTokens: number): ChatGenerationRequest {
  checkStreamOptions(body);
  if (body.top_logprobs != null && body.logprobs !== true)
    refuse('top_logprobs', 'top_logprobs is only allowed when logprobs is true');
  const request: ChatGenerationRequest = {
    kind: 'chat',
    messages: body.messages.map((message) => ({ role: message.role, content: flatten(message) })),
    max_tokens: maxTokens,
  };
  const temperature = given(body.temperature);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = given(body.top_p);
  if (topP !== undefined && topP < 1) request.top_p = topP;
  const seed = given(body.seed);
  if (seed !== undefined) request.seed = seed;
  const stop = stopSequences(body.stop);
  if (stop) request.stop = stop;
  const presence = given(body.presence_penalty);
  if (presence !== undefined) request.presence_penalty = presence;
  const frequency = given(body.frequency_penalty);
  if (frequency !== undefined) request.frequency_penalty = frequency;
  if (body.logprobs === true) {
    request.logprobs = true;
    const top = given(body.top_logprobs);
    if (top !== undefined) request.top_logprobs = top;
  }
  const grammar = toTgiGrammar(body.response_format);
  if (grammar) request.response_format = grammar;
  return request;
}

/** Text parts joined without separator, as OpenAI and TGI join them. */
function flatten({ content }: ChatMessageDto): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/** OpenAI's response_format in TGI's GrammarType form; text (or none) needs no grammar. */
function toTgiGrammar(format: ChatCompletionRequestDto['response_format']): TgiGrammar | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json', value: { type: 'object' } };
  return { type: 'json', value: format.json_schema.schema ?? { type: 'object' } };
}
