import type { OpenAiMessage, OpenAiTokenLogprob, TgiGrammar } from './openai-protocol.js';
import type { StopSignal } from './stop-signal.js';
import type { TgiDetails, TgiFinishReason, TgiStreamEvent } from './tgi-protocol.js';

export interface GenerationRequest {
  inputs: string;
  /** TGI parameters, snake_case, passed through as given. */
  parameters: Record<string, unknown>;
  /**
   * The backend route: `generate_stream` (the default: time to first token, the inter-token timeout, tokens relayed
   * as they come) or `generate`, one JSON answer: the one TGI serves `decoder_input_details` (the prompt's
   * logprobs) on.
   */
  route?: 'generate_stream' | 'generate';
}

/**
 * A chat completion for the backend's own `POST /v1/chat/completions` (TGI 3.x's Messages API, which our engine
 * serves too): the gateway has resolved the defaults and checked the bounds; the call adds `model`, `stream` and
 * `stream_options`. JSON-serialisable: a Redis queue carries it to another replica's worker.
 */
export interface ChatGenerationRequest {
  kind: 'chat';
  messages: Array<{ role: OpenAiMessage['role']; content: string }>;
  /** Always set: the gateway applies the model's default and ceiling. */
  max_tokens: number;
  /** 0 decodes greedily (TGI's Messages API reads it so); absent: TGI's default, sampling at 1. */
  temperature?: number;
  /** Absent means no nucleus filtering (TGI refuses 1.0). */
  top_p?: number;
  seed?: number;
  stop?: string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  /** TGI's form of `response_format`. */
  response_format?: TgiGrammar;
}

/** Any request a backend serves: TGI's generate (no `kind`) or a chat completion. */
export type BackendRequest = GenerationRequest | ChatGenerationRequest;

export function isChatRequest(request: BackendRequest): request is ChatGenerationRequest {
  return (request as Partial<ChatGenerationRequest>).kind === 'chat';
}

/** One piece of a streamed chat answer, as the gateway relays it: the text and, when asked for, its logprobs. */
export interface ChatDelta {
  content: string;
  logprobs: OpenAiTokenLogprob[] | null;
}

export interface GenerationOutcome {
  generatedText: string;
  finishReason: TgiFinishReason;
  inputTokens: number;
  outputTokens: number;
  seed: number | null;
  /** TGI's details as the backend sent them, from a `generate` call whose parameters asked for them (`details: true`). */
  details?: TgiDetails;
  /** A chat call's logprobs, every token's, when the request asked for them. */
  logprobs?: OpenAiTokenLogprob[];
  timings: {
    /** From sending the request to the first token event (a one-answer `generate` call: the whole answer). */
    firstTokenMs: number;
    /** From sending the request to the final event (the last byte that carries anything). */
    backendMs: number;
  };
}

export interface CallTimeouts {
  /** TCP connect of a new socket (a reused keep-alive socket is already connected). */
  connectMs: number;
  /**
   * From sending the request to the first SSE event. Not for an answer whose first byte comes when the generation is
   * done (a one-answer `generate` call): the total bounds that.
   */
  firstByteMs: number;
  /** Between two SSE events (a one-answer call has none). */
  interTokenMs: number;
  /** The whole call, retry included. */
  totalMs: number;
}

export interface CallOptions {
  /** The client's disconnect or the request deadline: aborts the backend call at once. */
  signal: StopSignal;
  timeouts: CallTimeouts;
  /** Called per SSE token event as it arrives (the gateway relays them). */
  onToken?: (event: TgiStreamEvent) => void;
  /** Called per chat chunk that carries text (chat calls only). */
  onDelta?: (delta: ChatDelta) => void;
  /**
   * Nobody reads the generation before its end (the client does not stream, nothing relays tokens): a backend may
   * answer it in one piece (TGI's `/generate`), which costs both sides less than a stream. `onToken` is then never
   * called; the total timeout bounds the whole answer (its first byte comes when it is done, so the first-byte
   * timeout cannot apply), and a backend that closes the connection after taking the request failed it (`upstream`,
   * as a stream closed early), not unreachable.
   */
  oneAnswer?: boolean;
}

export type ProbeResult = 'ready' | 'loading' | 'down';

/** One implementation per backend protocol (TGI first; OpenAI-compatible later). */
export interface InferenceBackend {
  readonly baseUrl: string;
  generate(request: GenerationRequest, options: CallOptions): Promise<GenerationOutcome>;
  /** `POST /v1/chat/completions`: streamed from the backend, or (`oneAnswer`, where the backend's client can) one answer. */
  chat(request: ChatGenerationRequest, options: CallOptions): Promise<GenerationOutcome>;
  /** GET /health: 200 ready; 503 or connection refused loading (the caller applies its start-up deadline); else down. */
  probe(): Promise<ProbeResult>;
  /** GET /info. */
  info(): Promise<Record<string, unknown>>;
  /** Destroys the keep-alive pool. */
  close(): void;
}
