import {
  isChatRequest,
  type BackendRequest,
  type ChatDelta,
  type GatewayErrorType,
  type GenerationOutcome,
  type TgiStreamEvent,
} from '#backends';

/** OpenAI's rule of thumb for English text: about 4 characters per token. Used only where no backend counted. */
const CHARACTERS_PER_TOKEN = 4;

/** The prompt's tokens as estimated from its characters, for a request that ended before the backend counted them. */
export function estimatedPromptTokens(request: BackendRequest): number {
  const characters = isChatRequest(request)
    ? request.messages.reduce((sum, message) => sum + message.content.length, 0)
    : request.inputs.length;
  return Math.ceil(characters / CHARACTERS_PER_TOKEN);
}

/**
 * Failures after which the backend may have read the prompt: charged its estimate. The others are refusals before any
 * backend work (a full queue, a model down, a bad field, a key's scope), charged nothing.
 */
const BACKEND_WORKED: ReadonlySet<GatewayErrorType> = new Set(['timeout', 'upstream', 'internal']);

/**
 * How a request ended, for what it is charged. `cutShort`: its signal was aborted (the client left, or the shutdown's
 * grace ran out), so the backend may have read the prompt whatever the error says.
 */
export type RequestEnd =
  { outcome: GenerationOutcome } | { failure: { type: GatewayErrorType | undefined; cutShort: boolean } };

/**
 * Counts what a request's backend generated as it streams (one TGI token event, or one chat chunk with text, per
 * token), so that a request that ends without an outcome (the client left, the backend failed) is still charged what
 * was generated.
 */
export class TokenMeter {
  private streamed = 0;

  constructor(private readonly request: BackendRequest) {}

  /** The callbacks to hand the dispatch queue: the caller's own, counted. */
  relays(given: {
    onToken?: ((event: TgiStreamEvent) => void) | undefined;
    onDelta?: ((delta: ChatDelta) => void) | undefined;
  }): { onToken: (event: TgiStreamEvent) => void; onDelta: (delta: ChatDelta) => void } {
    const { onToken, onDelta } = given;
    return {
      onToken: (event) => {
        this.streamed++;
        onToken?.(event);
      },
      onDelta: (delta) => {
        this.streamed++;
        onDelta?.(delta);
      },
    };
  }

  /**
   * The tokens to charge: the backend's own count (input + output) when it answered; otherwise what was streamed,
   * plus the prompt's estimate when the backend may have read it (it streamed, timed out, failed, or the request was cut short).
   */
  charge(end: RequestEnd): number {
    if ('outcome' in end) return end.outcome.inputTokens + end.outcome.outputTokens;
    const { type, cutShort } = end.failure;
    const promptRead = this.streamed > 0 || cutShort || (type !== undefined && BACKEND_WORKED.has(type));
    return this.streamed + (promptRead ? estimatedPromptTokens(this.request) : 0);
  }
}
