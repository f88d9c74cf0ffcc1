import type { TgiCompatGenerateRequest, TgiGenerateParameters } from '#backends';
import { validationError } from './errors.js';
import { bool, int, isPlainObject, num, optional, str, stringArray } from './field-readers.js';
import { readGrammar, type JsonGrammarRequest } from './grammar-request.js';

/**
 * Every input rule of /generate, /generate_stream, / and /tokenize, with TGI's wording where TGI has the rule
 * (router/src/validation.rs). Rules that need the tokenizer (input length, token budget) are in {@link checkTokenBudget}.
 */
export interface GenerateParameters {
  maxNewTokens?: number;
  doSample: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  frequencyPenalty?: number;
  seed?: number;
  stop: string[];
  truncate?: number;
  returnFullText: boolean;
  details: boolean;
  decoderInputDetails: boolean;
  topNTokens: number;
  /** Output constrained to JSON (TGI's `grammar`, the chat route's `response_format`). */
  grammar?: JsonGrammarRequest;
}

export interface GenerateRequest {
  inputs: string;
  parameters: GenerateParameters;
  /** Only meaningful on the compat route `POST /`. */
  stream: boolean;
}

export interface ValidationLimits {
  maxStopSequences: number;
  maxTopNTokens: number;
  maxInputTokens: number;
}

const TOP_LEVEL_KEYS = new Set<string>(['inputs', 'parameters', 'stream'] satisfies Array<
  keyof TgiCompatGenerateRequest
>);

const KNOWN_PARAMETERS: Record<keyof TgiGenerateParameters, true> = {
  adapter_id: true,
  best_of: true,
  decoder_input_details: true,
  details: true,
  do_sample: true,
  frequency_penalty: true,
  grammar: true,
  max_new_tokens: true,
  repetition_penalty: true,
  return_full_text: true,
  seed: true,
  stop: true,
  temperature: true,
  top_k: true,
  top_n_tokens: true,
  top_p: true,
  truncate: true,
  typical_p: true,
  watermark: true,
};

export interface RequestFieldOptions {
  /** Only TGI's compatibility route (`POST /`) takes `stream` in the body; the others refuse it as unknown. */
  allowStreamField?: boolean;
}

export function validateGenerateRequest(
  body: unknown,
  limits: ValidationLimits,
  { allowStreamField = false }: RequestFieldOptions = {},
): GenerateRequest {
  if (!isPlainObject(body)) throw validationError('the request body must be a JSON object with an `inputs` string');
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_KEYS.has(key) || (key === 'stream' && !allowStreamField)) {
      throw validationError(
        `unknown field \`${key}\`, expected one of \`inputs\`, \`parameters\`${allowStreamField ? ', `stream`' : ''}`,
      );
    }
  }
  if (body.inputs === undefined) throw validationError('missing field `inputs`');
  const inputs = str(body.inputs, 'inputs');
  if (inputs.length === 0) throw validationError('`inputs` cannot be empty');
  const stream = optional(body.stream, 'stream', bool) ?? false;
  const parameters = validateParameters(body.parameters ?? {}, limits);
  return { inputs, parameters, stream };
}

function validateParameters(raw: unknown, limits: ValidationLimits): GenerateParameters {
  if (!isPlainObject(raw)) throw validationError('`parameters` must be an object');
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(KNOWN_PARAMETERS, key)) throw validationError(`unknown field \`parameters.${key}\``);
  }
  const p = (name: keyof TgiGenerateParameters) => raw[name];

  const bestOf = optional(p('best_of'), 'best_of', int);
  if (bestOf !== undefined && bestOf !== 1) throw validationError(`\`best_of\` must be > 0 and <= 1. Given: ${bestOf}`);
  if (optional(p('watermark'), 'watermark', bool)) throw validationError('`watermark` is not supported by this engine');
  if (optional(p('adapter_id'), 'adapter_id', str) !== undefined)
    throw validationError('`adapter_id` is not supported by this engine (no LoRA adapters)');
  const typicalP = optional(p('typical_p'), 'typical_p', num);
  if (typicalP !== undefined) {
    if (typicalP <= 0 || typicalP >= 1) throw validationError('`typical_p` must be > 0.0 and < 1.0');
    throw validationError('`typical_p` is not supported by this engine');
  }

  const temperature = optional(p('temperature'), 'temperature', num);
  if (temperature !== undefined && temperature <= 0) throw validationError('`temperature` must be strictly positive');
  const repetitionPenalty = optional(p('repetition_penalty'), 'repetition_penalty', num);
  if (repetitionPenalty !== undefined && repetitionPenalty <= 0)
    throw validationError('`repetition_penalty` must be strictly positive');
  const frequencyPenalty = optional(p('frequency_penalty'), 'frequency_penalty', num);
  if (frequencyPenalty !== undefined && (frequencyPenalty < -2 || frequencyPenalty > 2)) {
    throw validationError('`frequency_penalty` must be >= -2.0 and <= 2.0');
  }
  const topP = optional(p('top_p'), 'top_p', num);
  if (topP !== undefined && (topP <= 0 || topP >= 1)) throw validationError('`top_p` must be > 0.0 and < 1.0');
  const topK = optional(p('top_k'), 'top_k', int);
  if (topK !== undefined && topK <= 0) throw validationError('`top_k` must be strictly positive');
  const maxNewTokens = optional(p('max_new_tokens'), 'max_new_tokens', int);
  if (maxNewTokens !== undefined && maxNewTokens <= 0)
    throw validationError('`max_new_tokens` must be strictly positive');
  const seed = optional(p('seed'), 'seed', int);
  if (seed !== undefined && seed < 0) throw validationError('`seed` must be a non-negative integer');
  const truncate = optional(p('truncate'), 'truncate', int);
  if (truncate !== undefined && (truncate <= 0 || truncate > limits.maxInputTokens)) {
    throw validationError(
      `\`truncate\` must be strictly positive and less than ${limits.maxInputTokens + 1}. Given: ${truncate}`,
    );
  }
  const topNTokens = optional(p('top_n_tokens'), 'top_n_tokens', int) ?? 0;
  if (topNTokens < 0 || topNTokens > limits.maxTopNTokens) {
    throw validationError(`\`top_n_tokens\` must be >= 0 and <= ${limits.maxTopNTokens}. Given: ${topNTokens}`);
  }
  const stop = optional(p('stop'), 'stop', stringArray) ?? [];
  if (stop.length > limits.maxStopSequences) {
    throw validationError(`\`stop\` supports up to ${limits.maxStopSequences} stop sequences. Given: ${stop.length}`);
  }
  if (stop.some((s) => s.length === 0)) throw validationError('`stop` sequences cannot be empty strings');

  return {
    maxNewTokens,
    doSample: optional(p('do_sample'), 'do_sample', bool) ?? false,
    temperature,
    topK,
    topP,
    repetitionPenalty,
    frequencyPenalty,
    seed,
    stop,
    truncate,
    returnFullText: optional(p('return_full_text'), 'return_full_text', bool) ?? false,
    details: optional(p('details'), 'details', bool) ?? false,
    decoderInputDetails: optional(p('decoder_input_details'), 'decoder_input_details', bool) ?? false,
    topNTokens,
    grammar: readGrammar(p('grammar'), 'grammar'),
  };
}

/** TGI samples whenever a warper is active, even with `do_sample: false` (server/.../tokens.py, NextTokenChooser). */
export function usesSampling(p: GenerateParameters): boolean {
  return (
    p.doSample || (p.temperature !== undefined && p.temperature !== 1) || p.topK !== undefined || p.topP !== undefined
  );
}

export interface TokenBudget {
  maxInputTokens: number;
  maxTotalTokens: number;
}

/** Rules that need the tokenized input; returns the number of new tokens to generate. */
export function checkTokenBudget(inputLength: number, maxNewTokens: number | undefined, budget: TokenBudget): number {
  if (inputLength > budget.maxInputTokens) {
    throw validationError(`\`inputs\` must have less than ${budget.maxInputTokens} tokens. Given: ${inputLength}`);
  }
  // TGI's default: whatever room the sequence has left.
  const newTokens = maxNewTokens ?? budget.maxTotalTokens - inputLength;
  if (inputLength + newTokens > budget.maxTotalTokens) {
    throw validationError(
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${budget.maxTotalTokens}. Given: ${inputLength} \`inputs\` tokens and ${newTokens} \`max_new_tokens\``,
    );
  }
  return newTokens;
}
