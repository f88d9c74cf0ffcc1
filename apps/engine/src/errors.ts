/**
 * The engine's errors and their TGI wire form, in one place (TGI's `InferError` → status + `error_type`).
 * Anything else that escapes a handler is a bug and is answered as a generation error (424), never left hanging.
 */
import { clipText, MAX_ERROR_MESSAGE_CHARS, type TgiErrorEvent, type TgiErrorType } from '#backends';

/** TGI's own, plus the two TGI answers outside its generation routes (a model not loaded, a route not found). */
export type EngineErrorType = TgiErrorType | 'unavailable' | 'not_found';

const STATUS: Record<EngineErrorType, number> = {
  validation: 422,
  overloaded: 429,
  generation: 424,
  incomplete_generation: 500,
  unavailable: 503,
  not_found: 404,
};

export class EngineError extends Error {
  constructor(
    readonly errorType: EngineErrorType,
    message: string,
    readonly status: number = STATUS[errorType],
  ) {
    super(message);
  }
}

/** TGI prefixes every validation message this way (`InferError::ValidationError`). */
export function validationError(detail: string): EngineError {
  return new EngineError('validation', `Input validation error: ${detail}`);
}

export const overloadedError = (): EngineError => new EngineError('overloaded', 'Model is overloaded');

export function toErrorBody(error: unknown): { status: number; body: TgiErrorEvent } {
  // Messages quote what the client sent (an unknown field's name may be as long as the body): bounded.
  const clip = (message: string) => clipText(message, MAX_ERROR_MESSAGE_CHARS);
  if (error instanceof EngineError)
    return { status: error.status, body: { error: clip(error.message), error_type: error.errorType } };
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 424,
    body: { error: clip(`Request failed during generation: ${message}`), error_type: 'generation' },
  };
}
