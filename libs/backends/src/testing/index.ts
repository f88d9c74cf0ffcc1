/** Test helpers for anything that talks to TGI backends (the gateway's tests too): import them from here. */
export {
  startTgiStandIn,
  type StandInHealth,
  type StandInRequest,
  type StandInScript,
  type TgiStandIn,
  type TgiStandInOptions,
  type TgiStandInStats,
} from './tgi-stand-in.js';
export { startUnacceptingPort, type UnacceptingPort } from './unaccepting-port.js';
export { testCallOptions } from './call-options.js';
export { testChatRequest } from './chat-request.js';
export { freeTcpPort, freeUdpPort } from './free-port.js';
export { assertMatchesTgiSchema, type TgiSchemaName } from './tgi-contract.js';
export {
  startOpenAiStandIn,
  type OpenAiFlavour,
  type OpenAiStandIn,
  type OpenAiStandInOptions,
  type OpenAiStandInRequest,
  type OpenAiStandInScript,
} from './openai-stand-in.js';
