import type { TgiFinishReason, TgiStreamEvent } from './tgi-protocol.js';

export interface GenerationRequest {
  inputs: string;
  /** TGI parameters, snake_case, passed through as given. */
  parameters: Record<string, unknown>;
}

export interface GenerationOutcome {
  generatedText: string;
  finishReason: TgiFinishReason;
  inputTokens: number;
  outputTokens: number;
  seed: number | null;
  timings: {
    /** From sending the request to the first token event. */
    firstTokenMs: number;
    /** From sending the request to the final event (the last byte that carries anything). */
    backendMs: number;
  };
}

export interface CallTimeouts {
  /** TCP connect of a new socket (a reused keep-alive socket is already connected). */
  connectMs: number;
  /** From sending the request to the first SSE event. */
  firstByteMs: number;
  /** Between two SSE events. */
  interTokenMs: number;
  /** The whole call, retry included. */
  totalMs: number;
}

export interface CallOptions {
  /** The client's disconnect or the request deadline: aborts the backend call at once. */
  signal: AbortSignal;
  timeouts: CallTimeouts;
  /** Called per SSE token event as it arrives (the gateway relays them). */
  onToken?: (event: TgiStreamEvent) => void;
}

export type ProbeResult = 'ready' | 'loading' | 'down';

/** One implementation per backend protocol (TGI first; OpenAI-compatible later). */
export interface InferenceBackend {
  readonly baseUrl: string;
  generate(request: GenerationRequest, options: CallOptions): Promise<GenerationOutcome>;
  /** GET /health: 200 ready; 503 or connection refused loading (the caller applies its start-up deadline); else down. */
  probe(): Promise<ProbeResult>;
  /** GET /info. */
  info(): Promise<Record<string, unknown>>;
  /** Destroys the keep-alive pool. */
  close(): void;
}
