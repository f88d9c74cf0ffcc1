import { GatewayError, type TgiGenerateParameters } from '#backends';
import { EngineError, validationError } from '#engine/errors';
import { validateGenerateRequest } from '#engine/validation';
import { MAX_PROMPT_CHARS, withinPromptLength } from '../http/prompt-length.js';

/**
 * TGI's defaults for what its router checks before the model sees a request. The input's length needs the model's
 * tokenizer: the backend checks it (and `truncate` against it), and its 422 comes back as it said it.
 */
const LIMITS = { maxStopSequences: 4, maxTopNTokens: 5, maxInputTokens: Number.MAX_SAFE_INTEGER };

/** A TGI body that passed TGI's rules: its parameters as the client sent them, and what the answer must carry. */
export interface TgiRequest {
  inputs: string;
  parameters: TgiGenerateParameters;
  stream: boolean;
  /** `details: true`: the answer carries TGI's Details (non-streamed) or StreamDetails (the stream's last event). */
  details: boolean;
  /** `decoder_input_details: true` with details: the prompt's logprobs, which only the backend's `/generate` gives. */
  prefill: boolean;
  topNTokens: number;
}

/**
 * Checks a body of `/models/{id}/generate`, `…/generate_stream` or `POST /models/{id}` (`compat`: the only one that
 * takes `stream`) with the engine's copy of TGI's rules and wording, so a refusal reads as TGI's own 422.
 */
export function readTgiRequest(
  body: unknown,
  { compat, streaming }: { compat: boolean; streaming?: boolean },
): TgiRequest {
  try {
    const checked = validateGenerateRequest(body, LIMITS, { allowStreamField: compat });
    if (!withinPromptLength(checked.inputs))
      throw validationError(`\`inputs\` must have at most ${MAX_PROMPT_CHARS} characters`);
    const stream = streaming ?? checked.stream;
    const { details, decoderInputDetails, topNTokens } = checked.parameters;
    if (stream && decoderInputDetails)
      throw validationError('`decoder_input_details` == true is not supported when streaming tokens');
    const raw = (body as { parameters?: Record<string, unknown> | null }).parameters ?? {};
    // Sent on as given (nulls dropped): the backend applies the same rules and its defaults.
    const parameters = Object.fromEntries(
      Object.entries(raw).filter(([, value]) => value !== null),
    ) as TgiGenerateParameters;
    return {
      inputs: checked.inputs,
      parameters,
      stream,
      details,
      prefill: details && decoderInputDetails,
      topNTokens,
    };
  } catch (error) {
    if (error instanceof EngineError) throw new GatewayError('validation', error.message, { status: error.status });
    throw error;
  }
}
