export {
  errorTypeForStatus,
  GATEWAY_ERROR_TYPES,
  GatewayError,
  isGatewayErrorType,
  type GatewayErrorOptions,
  type GatewayErrorType,
} from './gateway-error.js';
export { overlaid } from './overlaid.js';
export { Stop, type StopSignal } from './stop-signal.js';
export { errnoCode, toGatewayError } from './to-gateway-error.js';
export type {
  TgiBestOfSequence,
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
export {
  isChatRequest,
  type BackendRequest,
  type CallOptions,
  type CallTimeouts,
  type ChatDelta,
  type ChatGenerationRequest,
  type GenerationOutcome,
  type GenerationRequest,
  type InferenceBackend,
  type ProbeResult,
} from './inference-backend.js';
export type {
  OpenAiChatCompletion,
  OpenAiChatCompletionChunk,
  OpenAiChatRequest,
  OpenAiCompletion,
  OpenAiCompletionChoice,
  OpenAiCompletionLogprobs,
  OpenAiCompletionRequest,
  OpenAiErrorBody,
  OpenAiFinishReason,
  OpenAiMessage,
  OpenAiModel,
  OpenAiModelList,
  OpenAiResponseFormat,
  OpenAiRole,
  OpenAiTextPart,
  OpenAiTokenLogprob,
  OpenAiTopLogprob,
  OpenAiUsage,
  TgiGrammar,
} from './openai-protocol.js';
export { TgiBackend, type TgiBackendOptions } from './tgi-backend.js';
export { isServerProcessMessage, type ServerProcessMessage } from './server-process-channel.js';
export { JSON_BODY_LIMITS, jsonShapeProblem, type JsonShapeLimits } from './json-shape.js';
export { clipText, MAX_ERROR_MESSAGE_CHARS } from './clipped-text.js';
export { eventJson } from './relayed-json.js';
export { RouteMethods } from './route-methods.js';
export { installOversizedBodyRefusal } from './oversized-body.js';
export { OpenAiBackend, type OpenAiBackendOptions } from './openai-backend.js';
