import http from 'node:http';
import { HttpService } from '@nestjs/axios';
import axios, { type AxiosRequestConfig } from 'axios';
import { lastValueFrom } from 'rxjs';
import { createBackendAgent } from './backend-agent.js';
import { BackendPool } from './backend-pool.js';
import { GatewayError } from './gateway-error.js';
import { overlaid } from './overlaid.js';
import type {
  CallOptions,
  ChatGenerationRequest,
  GenerationOutcome,
  GenerationRequest,
  InferenceBackend,
  ProbeResult,
} from './inference-backend.js';
import { BackendCall, callTarget, type CallTarget } from './backend-call.js';
import { ChatAnswerReader } from './chat-answer-reader.js';
import { ChatChunkReader } from './chat-chunk-reader.js';
import { chatCompletionBody } from './chat-completion-body.js';
import { parseBackendBaseUrl } from './backend-base-url.js';
import { streamCall } from './sse-call.js';
import { TgiGenerateAnswerReader } from './tgi-generate-answer-reader.js';
import { tgiGenerateReader } from './tgi-generate-reader.js';
import { BackendErrorReply, errnoCode, toGatewayError } from './to-gateway-error.js';

export interface TgiBackendOptions {
  /**
   * @nestjs/axios's HttpService for the control calls, /health and /info (its interceptors apply); by default one
   * over a plain axios instance. Generations go straight over undici (backend-pool.ts): they are the hot path.
   */
  httpService?: HttpService;
  /** How long an idle keep-alive connection stays open (default 4000, below the backend's 72 s: see backend-pool.ts). */
  keepAliveIdleMs?: number;
  maxSockets?: number;
  /** Bound on GET /health and GET /info (default 2000): a probe that hangs says as much as one that fails. */
  probeTimeoutMs?: number;
  /** The route a probe asks (default `/health`): a `type: process` server's configured `health`. */
  healthPath?: string;
}

const acceptEveryStatus = (): boolean => true;

/**
 * A Hugging Face TGI backend (or anything that speaks its protocol, such as our engine). A generation goes through
 * `POST /generate_stream` with `details: true`, or `POST /generate` with `details: true` when nobody reads it before
 * its end (`oneAnswer`: one JSON answer, no events to parse), every chat completion through TGI's Messages API
 * (`POST /v1/chat/completions` with `stream: true` and the usage asked for; with `stream: false` when nobody reads it
 * before its end): the stream's last events carry the token counts, and its first one the time to first token. A generation may ask for
 * `POST /generate` instead (`route: 'generate'`), TGI's one JSON answer, the only one with the prompt's logprobs.
 * Every call shares one keep-alive pool and the same transport, timeouts and error mapping (`backend-call.ts`).
 */
export class TgiBackend implements InferenceBackend {
  readonly baseUrl: string;
  /** The control calls' keep-alive agent (axios). */
  private readonly agent: http.Agent;
  /** The generation calls' connections. */
  private readonly pool: BackendPool;
  private readonly http: HttpService;
  private readonly generateStreamTarget: CallTarget;
  private readonly generateTarget: CallTarget;
  private readonly chatTarget: CallTarget;
  private readonly chatAnswerTarget: CallTarget;
  private readonly controlConfig: Readonly<AxiosRequestConfig>;
  private readonly healthUrl: string;

  constructor(baseUrl: string, options: TgiBackendOptions = {}) {
    const url = parseBackendBaseUrl(baseUrl, 'TgiBackend', 'http://127.0.0.1:8080');
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.agent = createBackendAgent(url.protocol as 'http:' | 'https:', options);
    this.http = options.httpService ?? new HttpService(axios.create());
    // Set on every request, not as instance defaults, so an injected HttpService's defaults cannot change them.
    const common: AxiosRequestConfig = {
      adapter: 'http',
      httpAgent: this.agent,
      httpsAgent: this.agent,
      proxy: false, // backends are addressed directly; an HTTP(S)_PROXY in the environment is for the outside world
      maxRedirects: 0,
      validateStatus: acceptEveryStatus,
    };
    const basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new BackendPool(url.origin, options);
    const target = (path: string, accept: string) => callTarget(this.pool, `${basePath}${path}`, accept);
    this.generateStreamTarget = target('/generate_stream', 'text/event-stream');
    this.generateTarget = target('/generate', 'application/json');
    this.chatTarget = target('/v1/chat/completions', 'text/event-stream');
    this.chatAnswerTarget = target('/v1/chat/completions', 'application/json');
    this.controlConfig = Object.freeze({ ...common, responseType: 'text', timeout: options.probeTimeoutMs ?? 2_000 });
    this.healthUrl = `${this.baseUrl}${options.healthPath ?? '/health'}`;
  }

  generate(request: GenerationRequest, options: CallOptions): Promise<GenerationOutcome> {
    if (request.route === 'generate') {
      // The parameters as given: the answer's headers carry the token counts, so details only when asked for.
      const body = JSON.stringify({ inputs: request.inputs, parameters: request.parameters });
      const call = new BackendCall(this.generateTarget, body, options);
      return call.run(new TgiGenerateAnswerReader(call, request.parameters));
    }
    if (options.oneAnswer === true) {
      // Details for the finish reason and the seed, which TGI sends nowhere else; relayed only if the request asked.
      const body = JSON.stringify({ inputs: request.inputs, parameters: overlaid(request.parameters, DETAILS) });
      const call = new BackendCall(this.generateTarget, body, options);
      return call.run(new TgiGenerateAnswerReader(call, request.parameters, { detailsSent: true }));
    }
    const body = JSON.stringify({ inputs: request.inputs, parameters: overlaid(request.parameters, DETAILS) });
    return streamCall(this.generateStreamTarget, body, options, tgiGenerateReader);
  }

  chat(request: ChatGenerationRequest, options: CallOptions): Promise<GenerationOutcome> {
    // TGI reads any other `model` as the name of a LoRA adapter; it serves its one model as "tgi".
    if (options.oneAnswer === true) {
      const body = chatCompletionBody(request, 'tgi', request.response_format, false);
      const call = new BackendCall(this.chatAnswerTarget, body, options);
      return call.run(new ChatAnswerReader(call, request.logprobs === true));
    }
    const body = chatCompletionBody(request, 'tgi', request.response_format);
    return streamCall(this.chatTarget, body, options, new ChatChunkReader(request.logprobs === true));
  }

  async probe(): Promise<ProbeResult> {
    try {
      const { status } = await lastValueFrom(this.http.get<string>(this.healthUrl, this.controlConfig));
      if (status === 200) return 'ready';
      return status === 503 ? 'loading' : 'down';
    } catch (error) {
      // TGI binds its port only once the model is loaded and warmed up: refused means "not yet" as often as "gone".
      return errnoCode(error) === 'ECONNREFUSED' ? 'loading' : 'down';
    }
  }

  async info(): Promise<Record<string, unknown>> {
    let response;
    try {
      response = await lastValueFrom(this.http.get<string>(`${this.baseUrl}/info`, this.controlConfig));
    } catch (error) {
      throw toGatewayError(error);
    }
    if (response.status !== 200) {
      throw toGatewayError(
        new BackendErrorReply(response.status, String(response.data), headerValue(response.headers['retry-after'])),
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(response.data);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new GatewayError(
        'upstream',
        `backend answered /info with a body that is not a JSON object: ${String(response.data).slice(0, 200)}`,
      );
    }
    return value as Record<string, unknown>;
  }

  close(): void {
    this.agent.destroy();
    this.pool.close();
  }
}

const DETAILS = Object.freeze({ details: true });

function headerValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
