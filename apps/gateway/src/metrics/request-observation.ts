import type { IncomingMessage } from 'node:http';
import { errorTypeForStatus, type GatewayErrorType } from '#backends';
import { REQUEST_OUTCOMES, type RequestOutcome } from '#metrics';
import type { GenerateResult } from '../serving/serving-path.service.js';

/**
 * What the handlers learn about a generation request that the metrics need when it ends: its result, or the error
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

/** Undefined for requests the metrics do not follow (anything but the generation routes). */
function observationOf(raw: IncomingMessage): RequestObservation | undefined {
  return (raw as Observed)[OBSERVATION];
}

export function noteResult(raw: IncomingMessage, result: GenerateResult): void {
  const observation = observationOf(raw);
  if (observation) observation.result = result;
}

export function noteError(raw: IncomingMessage, errorType: GatewayErrorType): void {
  const observation = observationOf(raw);
  if (observation) observation.errorType = asOutcome(errorType);
}

const OUTCOMES = new Set<string>(REQUEST_OUTCOMES);

/** Every error type a generate request can be answered with is an outcome (`not_found`, a route's, cannot be). */
function asOutcome(errorType: string): RequestOutcome {
  return OUTCOMES.has(errorType) ? (errorType as RequestOutcome) : 'internal';
}

/** The outcome of an answer that set no error type itself, from its status. */
export function outcomeOfStatus(status: number): RequestOutcome {
  const type = errorTypeForStatus(status);
  return type === undefined ? 'ok' : asOutcome(type);
}
