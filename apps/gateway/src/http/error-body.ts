import { GatewayError, toGatewayError } from '#backends';

export interface ErrorBody {
  error: string;
  error_type: string;
  request_id: string;
}

/** Every error the gateway answers, in one shape: `{error, error_type, request_id}` with the taxonomy's status. */
export function errorResponse(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const gatewayError = error instanceof GatewayError ? error : toGatewayError(error);
  const headers: Record<string, string> = {};
  // Every 429 and 503 says when to come back; a backend that did not say (TGI's in-stream overload) gets 1 s.
  const retryAfter =
    gatewayError.retryAfterS ?? (gatewayError.status === 429 || gatewayError.status === 503 ? 1 : undefined);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return {
    status: gatewayError.status,
    body: { error: gatewayError.message, error_type: gatewayError.type, request_id: requestId },
    headers,
  };
}
