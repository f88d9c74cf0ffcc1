import type { TgiGenerateResponse, TgiStreamEvent } from '#backends';
import { EngineError } from '../errors.js';
import type { GenerationResult } from '../generator.js';
import type { GenerateRequest } from '../validation.js';

export function generateResponse(request: GenerateRequest, result: GenerationResult): TgiGenerateResponse {
  const { parameters } = request;
  const generatedText = parameters.returnFullText ? request.inputs + result.text : result.text;
  if (!parameters.details) return { generated_text: generatedText };
  return {
    generated_text: generatedText,
    details: {
      finish_reason: result.finishReason,
      generated_tokens: result.tokens.length,
      seed: result.seed,
      prefill: result.prefill,
      tokens: result.tokens,
      ...(parameters.topNTokens > 0 ? { top_tokens: result.topTokens } : {}),
    },
  };
}

export function finalStreamEvent(request: GenerateRequest, result: GenerationResult, index: number): TgiStreamEvent {
  const last = result.tokens[result.tokens.length - 1];
  // A finished generation has at least one token; without one there is no final event to send, as in TGI.
  if (last === undefined) throw new EngineError('incomplete_generation', 'Incomplete generation');
  const lastTop = result.topTokens[result.topTokens.length - 1] ?? [];
  return {
    index,
    token: last,
    top_tokens: lastTop,
    generated_text: request.parameters.returnFullText ? request.inputs + result.text : result.text,
    details: request.parameters.details
      ? {
          finish_reason: result.finishReason,
          generated_tokens: result.tokens.length,
          seed: result.seed,
          input_length: result.inputLength,
        }
      : null,
  };
}
