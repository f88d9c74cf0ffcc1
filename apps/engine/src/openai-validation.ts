import { validationError } from './errors.js';
import { bool, describe, int, isPlainObject, num, optional, str, stringArray } from './field-readers.js';
import { readGrammar } from './grammar-request.js';
import type { GenerateParameters, ValidationLimits } from './validation.js';

/**
 * The input rules of TGI's OpenAI-style routes (`/v1/chat/completions`, `/v1/completions`), in TGI's wording
 * (router/src/lib.rs `ChatRequest`/`CompletionRequest`, validation.rs). Unknown fields are ignored, as TGI's
 * serde structs ignore them: OpenAI clients send fields an engine has no use for (`user`, `model`).
 */
export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessageInput {
  role: ChatRole;
  content: string;
}

export interface ChatCompletionRequest {
  messages: ChatMessageInput[];
  parameters: GenerateParameters;
  /** `logprobs: true`: each token's logprob (and `top_logprobs` alternatives) in the answer. */
  logprobs: boolean;
  stream: boolean;
  includeUsage: boolean;
}

export interface CompletionRequest {
  prompt: string;
  parameters: GenerateParameters;
  stream: boolean;
}

const ROLES = new Set<string>(['system', 'user', 'assistant'] satisfies ChatRole[]);

export function validateChatRequest(body: unknown, limits: ValidationLimits): ChatCompletionRequest {
  if (!isPlainObject(body)) throw validationError('the request body must be a JSON object with `messages`');
  if (body.messages === undefined || body.messages === null) throw validationError('missing field `messages`');
  if (!Array.isArray(body.messages))
    throw validationError(`\`messages\` must be an array, got ${describe(body.messages)}`);
  if (body.messages.length === 0) throw validationError('`messages` cannot be empty');
  const messages = body.messages.map((message, i) => readMessage(message, `messages[${i}]`));

  const tools = body.tools;
  if (tools !== undefined && tools !== null && !(Array.isArray(tools) && tools.length === 0)) {
    throw validationError('`tools` are not supported by this engine');
  }
  const toolChoice = body.tool_choice;
  if (toolChoice !== undefined && toolChoice !== null && toolChoice !== 'none') {
    throw validationError('`tool_choice` is not supported by this engine: only `none` is accepted');
  }
  if (!isEmpty(body.logit_bias)) throw validationError('`logit_bias` is not supported by this engine');
  const n = optional(body.n, 'n', int);
  if (n !== undefined && n !== 1) throw validationError(`\`n\` must be > 0 and <= 1. Given: ${n}`);

  const logprobs = optional(body.logprobs, 'logprobs', bool) ?? false;
  const topLogprobs = optional(body.top_logprobs, 'top_logprobs', int) ?? 0;
  if (topLogprobs < 0 || topLogprobs > limits.maxTopNTokens) {
    throw validationError(`\`top_logprobs\` must be >= 0 and <= ${limits.maxTopNTokens}. Given: ${topLogprobs}`);
  }
  const presencePenalty = optional(body.presence_penalty, 'presence_penalty', num);
  if (presencePenalty !== undefined && (presencePenalty < -2 || presencePenalty > 2)) {
    throw validationError('`presence_penalty` must be >= -2.0 and <= 2.0');
  }
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isPlainObject(streamOptions)) {
    throw validationError('`stream_options` must be an object');
  }

  const parameters = samplingParameters(body, limits);
  // TGI's mapping: OpenAI's presence penalty in [-2, 2] becomes a repetition penalty in [0, 4].
  if (presencePenalty !== undefined) parameters.repetitionPenalty = presencePenalty + 2;
  if (presencePenalty === -2) throw validationError('`repetition_penalty` must be strictly positive');
  parameters.topNTokens = logprobs ? topLogprobs : 0;
  parameters.grammar = readGrammar(body.response_format, 'response_format');

  return {
    messages,
    parameters,
    logprobs,
    stream: optional(body.stream, 'stream', bool) ?? false,
    includeUsage: optional(streamOptions?.include_usage, 'stream_options.include_usage', bool) ?? false,
  };
}

export function validateCompletionRequest(body: unknown, limits: ValidationLimits): CompletionRequest {
  if (!isPlainObject(body)) throw validationError('the request body must be a JSON object with `prompt`');
  if (body.suffix !== undefined && body.suffix !== null) {
    throw validationError('Suffix is not supported and can be achieved by preprocessing the prompt.');
  }
  if (body.prompt === undefined || body.prompt === null) throw validationError('missing field `prompt`');
  let prompt: string;
  if (Array.isArray(body.prompt)) {
    const prompts = stringArray(body.prompt, 'prompt');
    if (prompts.length !== 1) {
      throw validationError(`Number of prompts exceeds the maximum allowed batch size of 1. Given: ${prompts.length}`);
    }
    prompt = prompts[0]!;
  } else {
    prompt = str(body.prompt, 'prompt');
  }
  if (prompt.length === 0) throw validationError('`prompt` cannot be empty');
  const parameters = samplingParameters(body, limits);
  const repetitionPenalty = optional(body.repetition_penalty, 'repetition_penalty', num);
  if (repetitionPenalty !== undefined && repetitionPenalty <= 0) {
    throw validationError('`repetition_penalty` must be strictly positive');
  }
  parameters.repetitionPenalty = repetitionPenalty;
  return { prompt, parameters, stream: optional(body.stream, 'stream', bool) ?? false };
}

/** The fields both routes share, as TGI converts them to its generate parameters. */
function samplingParameters(body: Record<string, unknown>, limits: ValidationLimits): GenerateParameters {
  const maxTokens = optional(body.max_tokens, 'max_tokens', int);
  if (maxTokens !== undefined && maxTokens <= 0) throw validationError('`max_tokens` must be strictly positive');
  const temperature = optional(body.temperature, 'temperature', num);
  if (temperature !== undefined && temperature < 0) throw validationError('`temperature` must be strictly positive');
  const topP = optional(body.top_p, 'top_p', num);
  if (topP !== undefined && (topP <= 0 || topP >= 1)) throw validationError('`top_p` must be > 0.0 and < 1.0');
  const frequencyPenalty = optional(body.frequency_penalty, 'frequency_penalty', num);
  if (frequencyPenalty !== undefined && (frequencyPenalty < -2 || frequencyPenalty > 2)) {
    throw validationError('`frequency_penalty` must be >= -2.0 and <= 2.0');
  }
  const seed = optional(body.seed, 'seed', int);
  if (seed !== undefined && seed < 0) throw validationError('`seed` must be a non-negative integer');
  const stop = optional(body.stop, 'stop', stringArray) ?? [];
  if (stop.length > limits.maxStopSequences) {
    throw validationError(`\`stop\` supports up to ${limits.maxStopSequences} stop sequences. Given: ${stop.length}`);
  }
  if (stop.some((s) => s.length === 0)) throw validationError('`stop` sequences cannot be empty strings');

  // TGI's Messages API samples by default and reads temperature 0 as greedy decoding.
  const greedy = temperature === 0;
  return {
    maxNewTokens: maxTokens,
    doSample: !greedy,
    temperature: greedy ? undefined : temperature,
    topP,
    frequencyPenalty,
    seed,
    stop,
    returnFullText: false,
    details: false,
    decoderInputDetails: false,
    topNTokens: 0,
  };
}

function readMessage(value: unknown, field: string): ChatMessageInput {
  if (!isPlainObject(value)) throw validationError(`\`${field}\` must be an object with \`role\` and \`content\``);
  const role = str(value.role ?? undefined, `${field}.role`);
  if (!ROLES.has(role)) {
    throw validationError(`\`${field}.role\` must be one of \`system\`, \`user\`, \`assistant\`. Given: ${role}`);
  }
  if (value.tool_calls !== undefined && value.tool_calls !== null) {
    throw validationError(`\`${field}.tool_calls\` are not supported by this engine`);
  }
  if (value.content === undefined || value.content === null)
    throw validationError(`missing field \`${field}.content\``);
  return { role: role as ChatRole, content: readContent(value.content, `${field}.content`) };
}

/** A string, or text parts joined without a separator, as TGI joins them. */
function readContent(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) {
    throw validationError(`\`${field}\` must be a string or an array of text parts, got ${describe(value)}`);
  }
  return value
    .map((part, i) => {
      if (!isPlainObject(part) || part.type !== 'text') {
        const type = isPlainObject(part) ? String(part.type) : describe(part);
        throw validationError(
          `\`${field}[${i}]\` must be a \`text\` part; this engine does not take \`${type}\` parts`,
        );
      }
      return str(part.text, `${field}[${i}].text`);
    })
    .join('');
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}
