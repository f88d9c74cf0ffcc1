import http from 'node:http';
import { HttpService } from '@nestjs/axios';
import axios, { type AxiosRequestConfig } from 'axios';
import { lastValueFrom } from 'rxjs';
import { createBackendAgent } from './backend-agent.js';
import { BackendPool } from './backend-pool.js';
import { parseBackendBaseUrl } from './backend-base-url.js';
import { BackendCall, callTarget, type CallTarget } from './backend-call.js';
import { ChatAnswerReader } from './chat-answer-reader.js';
import { GatewayError } from './gateway-error.js';
import type {
  CallOptions,
  ChatGenerationRequest,
  GenerationOutcome,
  GenerationRequest,
  InferenceBackend,
  ProbeResult,
} from './inference-backend.js';
import { ChatChunkReader } from './chat-chunk-reader.js';
import { toChatBody } from './openai-chat-body.js';
import { toCompletionBody } from './openai-completion-body.js';
import { OpenAiCompletionReader } from './openai-completion-reader.js';
import { streamCall } from './sse-call.js';
import { BackendErrorReply, errnoCode, toGatewayError } from './to-gateway-error.js';

export interface OpenAiBackendOptions {
  /** The served model name sent as `model` (vLLM's `--served-model-name`); by default the first of `GET /v1/models`. */
  model?: string;
  /** Sent as `Authorization: Bearer <key>` (vLLM's and llama-server's `--api-key`). */
  apiKey?: string;
  /** @nestjs/axios's HttpService for the control calls (health, models); by default one over a plain axios instance. */
  httpService?: HttpService;
  keepAliveIdleMs?: number;
  maxSockets?: number;
  /** Bound on each control call (default 2000). */
  probeTimeoutMs?: number;
  /** The route a probe asks first (default `/health`): a `type: process` server's configured `health`. */
  healthPath?: string;
}

const acceptEveryStatus = (): boolean => true;

/**
 * A backend that speaks OpenAI's protocol: vLLM, llama.cpp's llama-server, SGLang, Ollama. A TGI generation
 * (`/v1/generate`) becomes a streamed `POST /v1/completions` (openai-completion-body.ts says what maps and what is
 * refused), a chat completion a streamed `POST /v1/chat/completions`, or one answer (`stream: false`) when nobody
 * reads it before its end (`oneAnswer`); both ask for the usage. The calls go through
 * the TGI client's machinery (`backend-call.ts`, `sse-call.ts`): the same timeouts, client abort, stale keep-alive
 * retry and error mapping. Readiness is the server's `/health` (vLLM, llama-server, SGLang), else `/v1/models`.
 */
export class OpenAiBackend implements InferenceBackend {
  readonly baseUrl: string;
  /** The control calls' keep-alive agent (axios). */
  private readonly agent: http.Agent;
  /** The generation calls' connections. */
  private readonly pool: BackendPool;
  private readonly http: HttpService;
  private readonly completionsTarget: CallTarget;
  private readonly chatTarget: CallTarget;
  private readonly chatAnswerTarget: CallTarget;
  private readonly controlConfig: Readonly<AxiosRequestConfig>;
  private readonly healthPath: string;
  /** Configured, or learned from `/v1/models` by a probe; undefined sends no `model` (vLLM and llama-server then use their one). */
  private model: string | undefined;

  constructor(baseUrl: string, options: OpenAiBackendOptions = {}) {
    const url = parseBackendBaseUrl(baseUrl, 'OpenAiBackend', 'http://127.0.0.1:8000');
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.model = options.model;
    this.healthPath = options.healthPath ?? '/health';
    this.agent = createBackendAgent(url.protocol as 'http:' | 'https:', options);
    this.http = options.httpService ?? new HttpService(axios.create());
    const authorization: Record<string, string> =
      options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
    const basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new BackendPool(url.origin, options);
    const target = (path: string, accept = 'text/event-stream') =>
      callTarget(this.pool, `${basePath}${path}`, accept, Object.entries(authorization).flat());
    this.completionsTarget = target('/v1/completions');
    this.chatTarget = target('/v1/chat/completions');
    this.chatAnswerTarget = target('/v1/chat/completions', 'application/json');
    this.controlConfig = Object.freeze({
      adapter: 'http',
      httpAgent: this.agent,
      httpsAgent: this.agent,
      proxy: false,
      maxRedirects: 0,
      validateStatus: acceptEveryStatus,
      responseType: 'text',
      headers: authorization,
      timeout: options.probeTimeoutMs ?? 2_000,
    } satisfies AxiosRequestConfig);
  }

  /** The `model` the calls send: configured, learned by a probe, or none yet. */
  get servedModel(): string | undefined {
    return this.model;
  }

  generate(request: GenerationRequest, options: CallOptions): Promise<GenerationOutcome> {
    let body;
    try {
      body = toCompletionBody(request.inputs, request.parameters, this.model);
    } catch (error) {
      return Promise.reject(error);
    }
    const { seed } = request.parameters;
    const sampledSeed = body.temperature !== 0 && typeof seed === 'number' ? seed : null;
    const prefix = request.parameters.return_full_text === true ? request.inputs : '';
    return streamCall(
      this.completionsTarget,
      JSON.stringify(body),
      options,
      new OpenAiCompletionReader(prefix, sampledSeed),
    );
  }

  chat(request: ChatGenerationRequest, options: CallOptions): Promise<GenerationOutcome> {
    const oneAnswer = options.oneAnswer === true;
    let body;
    try {
      body = toChatBody(request, this.model, !oneAnswer);
    } catch (error) {
      return Promise.reject(error);
    }
    if (oneAnswer) {
      const call = new BackendCall(this.chatAnswerTarget, body, options);
      return call.run(new ChatAnswerReader(call, request.logprobs === true));
    }
    return streamCall(this.chatTarget, body, options, new ChatChunkReader(request.logprobs === true));
  }

  /**
   * `GET /health`: 200 ready; 503 loading (llama-server while it loads, `{"error": {"code": 503, "message": "Loading
   * model"}}`); a server without the route (404: Ollama, proxies) is asked `GET /v1/models` instead. Refused
   * connections are loading too: vLLM binds its port only once the model is loaded. With no model name configured,
   * the first ready probe learns it from `GET /v1/models` (failing that, calls name none: the server's default).
   */
  async probe(): Promise<ProbeResult> {
    try {
      let status = await this.statusOf(this.healthPath);
      if (status === 404 || status === 405) status = await this.statusOf('/v1/models');
      if (status === 503) return 'loading';
      if (status !== 200) return 'down';
      this.model ??= (await this.models().catch(() => []))[0]?.id;
      return 'ready';
    } catch (error) {
      return errnoCode(error) === 'ECONNREFUSED' ? 'loading' : 'down';
    }
  }

  /**
   * What the gateway's TGI `/info` route answers for this model: the served model's id and its `/v1/models` entry
   * (vLLM puts `max_model_len` there). These servers have no TGI Info.
   */
  async info(): Promise<Record<string, unknown>> {
    const models = await this.models();
    const entry = models.find((m) => m.id === this.model) ?? models[0];
    return { model_id: this.model ?? entry?.id ?? null, backend_protocol: 'openai', served_model: entry ?? null };
  }

  close(): void {
    this.agent.destroy();
    this.pool.close();
  }

  private async statusOf(path: string): Promise<number> {
    const { status } = await lastValueFrom(this.http.get<string>(`${this.baseUrl}${path}`, this.controlConfig));
    return status;
  }

  /** `GET /v1/models`: OpenAI's list (vLLM, llama-server, Ollama), or TGI's one ModelInfo (TGI, our engine). */
  private async models(): Promise<Array<{ id: string } & Record<string, unknown>>> {
    let response;
    try {
      response = await lastValueFrom(this.http.get<string>(`${this.baseUrl}/v1/models`, this.controlConfig));
    } catch (error) {
      throw toGatewayError(error);
    }
    if (response.status !== 200) {
      const retryAfter: unknown = response.headers['retry-after'];
      throw toGatewayError(
        new BackendErrorReply(
          response.status,
          String(response.data),
          typeof retryAfter === 'string' ? retryAfter : undefined,
        ),
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(response.data);
    } catch {
      value = undefined;
    }
    const list = isObject(value) && Array.isArray(value.data) ? (value.data as unknown[]) : [value];
    const models = list.filter(
      (m): m is { id: string } & Record<string, unknown> => isObject(m) && typeof m.id === 'string',
    );
    if (models.length === 0) {
      throw new GatewayError(
        'upstream',
        `backend answered /v1/models with no model in it: ${String(response.data).slice(0, 200)}`,
      );
    }
    return models;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
