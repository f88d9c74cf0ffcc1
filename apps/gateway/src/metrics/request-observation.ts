import type { IncomingMessage } from 'node:http';
import { errorTypeForStatus, isGatewayErrorType } from '#backends';
import type { RequestOutcome } from '#metrics';
import type { GenerateResult } from '../generate/generate.service.js';

/**
 * What the handlers learn about a generate request that the metrics need when it ends: its result, or the error
 * type it was answered with. Kept on the raw request so the exception filter, which sees only the request, can add to it.
 */
export interface RequestObservation {
  /** performance.now() at arrival. */
  readonly arrivedAt: number;
  result?: GenerateResult;
  /** Set where an error is answered; a request without one is judged by its status (see outcomeOfStatus). */
  errorType?: RequestOutcome;
}

const OBSERVATION = Symbol('sluice.requestObservation');
type Observed = IncomingMessage & { [OBSERVATION]?: RequestObservation };

export function startObservation(raw: IncomingMessage): RequestObservation {
  const observation: RequestObservation = { arrivedAt: performance.now() };
  (raw as Observed)[OBSERVATION] = observation;
  return observation;
}

/** Undefined for requests the metrics do not follow (anything but POST /v1/generate). */
function observationOf(raw: IncomingMessage): RequestObservation | undefined {
  return (raw as Observed)[OBSERVATION];
}

export function noteResult(raw: IncomingMessage, result: GenerateResult): void {
  const observation = observationOf(raw);
  if (observation) observation.result = result;
}

export function noteError(raw: IncomingMessage, errorType: string): void {
  const observation = observationOf(raw);
  if (observation) observation.errorType = asOutcome(errorType);
}

function asOutcome(errorType: string): RequestOutcome {
  return isGatewayErrorType(errorType) ? errorType : 'internal';
}

/** The outcome of an answer that set no error type itself, from its status. */
export function outcomeOfStatus(status: number): RequestOutcome {
  if (status < 400) return 'ok';
  return errorTypeForStatus(status) ?? 'internal';
}
