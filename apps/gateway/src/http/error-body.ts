import { GatewayError, toGatewayError } from '../../../../libs/backends/src/index.js';

export interface ErrorBody {
  error: string;
  error_type: string;
  request_id: string;
}

/** Every error the gateway answers, in one shape: `{error, error_type, request_id}` with the taxonomy's status. */
export function errorResponse(error: unknown, requestId: string): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const gatewayError = error instanceof GatewayError ? error : toGatewayError(error);
  const headers: Record<string, string> = {};
  if (gatewayError.retryAfterS !== undefined) headers['retry-after'] = String(gatewayError.retryAfterS);
  return {
    status: gatewayError.status,
    body: { error: gatewayError.message, error_type: gatewayError.type, request_id: requestId },
    headers,
  };
}
