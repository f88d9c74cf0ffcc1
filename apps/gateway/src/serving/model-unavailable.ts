import { GatewayError } from '#backends';
import type { ModelEntry } from '#model-registry';

/** 503 for a model that does not serve now, naming its state and why (its last error), with a Retry-After. */
export function modelUnavailableError(entry: ModelEntry): GatewayError {
  const { state, lastError } = entry.status;
  const why = lastError ? `: ${lastError.message}` : '';
  const what = state === 'failed' ? 'cannot load its model file' : `is ${state}`;
  return new GatewayError('unavailable', `model "${entry.descriptor.id}" ${what}${why}`, { retryAfterS: 5 });
}
