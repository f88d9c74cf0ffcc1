export {
  errorTypeForStatus,
  GATEWAY_ERROR_TYPES,
  GatewayError,
  isGatewayErrorType,
  type GatewayErrorOptions,
  type GatewayErrorType,
} from './gateway-error.js';
export { toGatewayError } from './to-gateway-error.js';
export type {
  TgiCompatGenerateRequest,
  TgiDetails,
  TgiErrorEvent,
  TgiErrorType,
  TgiFinishReason,
  TgiGenerateParameters,
  TgiGenerateRequest,
  TgiGenerateResponse,
  TgiInfo,
  TgiPrefillToken,
  TgiSimpleToken,
  TgiStreamDetails,
  TgiStreamEvent,
  TgiToken,
} from './tgi-protocol.js';
export type {
  CallOptions,
  CallTimeouts,
  GenerationOutcome,
  GenerationRequest,
  InferenceBackend,
  ProbeResult,
} from './inference-backend.js';
export { TgiBackend, type TgiBackendOptions } from './tgi-backend.js';
export { isServerProcessMessage, type ServerProcessMessage } from './server-process-channel.js';
