import http from 'node:http';
import type { TgiErrorType, TgiFinishReason, TgiInfo } from '../tgi-protocol.js';
import { chatRoute } from './stand-in-chat.js';
import { generateRoute } from './stand-in-generate.js';
import {
  defaultMessage,
  RequestFailure,
  sendJson,
  sseEvent,
  startSse,
  STATUS_FOR_ERROR,
  type StandInRoute,
  type TokenPlan,
} from './stand-in-route.js';
import {
  readBody,
  sendScriptedError,
  StandInServer,
  type ScriptedHttpError,
  type StandInAddress,
} from './stand-in-server.js';

/**
 * A TEST STAND-IN for a Hugging Face TGI server: an in-process node:http server that answers `/generate`,
 * `/generate_stream`, `/v1/chat/completions` (streamed or not), `/health` and `/info` with TGI's exact shapes (its
 * spec checks them against contracts/tgi-openapi.json) — `details`, `top_n_tokens`, `decoder_input_details` and the
 * accounting headers included — and misbehaves on request as scripted, on every generation route alike. It generates nothing: the "tokens" are the script's strings and the "tokenizer" counts
 * whitespace-separated words.
 */

/** How the stand-in answers one generation request. Everything is optional: the default is a quick success. */
export interface StandInScript {
  /** Token texts to emit (default `['Hello', ',', ' world']`), capped by `max_new_tokens`. */
  tokens?: string[];
  /** Default: `length` when the tokens reach `max_new_tokens`, else `eos_token` (an extra special `</s>` token). */
  finishReason?: TgiFinishReason;
  /** Default: the number of whitespace-separated words in `inputs`. */
  inputLength?: number;
  /** After the headers (TGI sends them at once), before the first token. */
  firstTokenDelayMs?: number;
  /** Between two tokens. */
  tokenDelayMs?: number;
  /** TGI's answer past `--max-concurrent-requests`: 429 on /generate, an `overloaded` event in a 200 stream. */
  overloaded?: boolean;
  /** An error after this many tokens: an event in the 200 stream, or on /generate TGI's status for the type. */
  errorAfterTokens?: { tokens: number; errorType: TgiErrorType; message?: string };
  /** Destroys the socket after this many tokens (a crash or a network cut mid-stream). */
  closeAfterTokens?: number;
  /** Ends the response cleanly after this many tokens, without the final event (a backend bug). */
  endAfterTokens?: number;
  /** Reads the request and never answers, not even the headers. */
  hang?: boolean;
  /**
   * Destroys the connection as soon as the request arrives, without a byte of answer: what a client sees when the
   * server closed an idle keep-alive socket just as the request was written into it.
   */
  resetOnArrival?: boolean;
  /**
   * A 200 with this body in place of the answer of a call that does not stream (a proxy's page, another server on the
   * port): TGI itself never sends one.
   */
  answerBody?: string;
  /** A plain HTTP error, as a proxy or load balancer in front of TGI would send it (TGI itself never does on streams). */
  httpError?: ScriptedHttpError;
  /**
   * Chat streams only, for the other OpenAI-protocol servers a client meets: the form of error events (`tgi`, the
   * default: TGI 3.x's `{error: {message, http_status_code: 422}}`; `error-response`: TGI's `{error, error_type}`;
   * `openai`: `{error: {message, type, param, code}}`, as OpenAI and vLLM send), a role-only first chunk (vLLM,
   * llama-server), and a stream that ends after its last chunk without `data:[DONE]`.
   */
  chatErrorForm?: 'tgi' | 'error-response' | 'openai';
  roleChunkFirst?: boolean;
  omitDone?: boolean;
}

export interface StandInRequest {
  /** 1-based, in arrival order, over all generation routes. */
  number: number;
  route: GenerationPath;
  body: unknown;
  headers: http.IncomingHttpHeaders;
  /** The request came on a connection that had already carried an earlier request (keep-alive reuse). */
  reusedConnection: boolean;
}

export type StandInHealth = 'ready' | 'unhealthy' | 'broken';

export interface TgiStandInOptions {
  /** One script for every request, or one chosen per request. */
  script?: StandInScript | ((request: StandInRequest) => StandInScript);
  /** false: the port refuses connections until `load()` (TGI binds only after loading). Default true. */
  loaded?: boolean;
  /** TGI's `--max-concurrent-requests` (default 128): beyond it, answers overloaded. */
  maxConcurrentRequests?: number;
  /** Idle keep-alive timeout of the server (default 72 s, TGI's and our engine's). */
  keepAliveTimeoutMs?: number;
  modelId?: string;
  /** Where it listens: by default 127.0.0.1 on a free port (several on one port: pods behind one DNS name). */
  at?: StandInAddress;
}

export interface TgiStandInStats {
  /** Generation requests received, including those reset on arrival. */
  requests: number;
  /** TCP connections accepted. */
  connections: number;
  /** Generations running now, and the most that ever ran at once. */
  inFlight: number;
  maxInFlight: number;
  /** Requests whose client went away before the stand-in had finished answering. */
  disconnects: number;
  /** `GET /health` requests received. */
  healthChecks: number;
}

export interface TgiStandIn {
  readonly url: string;
  readonly stats: Readonly<TgiStandInStats>;
  readonly received: readonly StandInRequest[];
  /** What `/health` answers: 200, 503 (loading or unhealthy), or 500. */
  health: StandInHealth;
  /** Binds the port (for a stand-in started with `loaded: false`). */
  load(): Promise<void>;
  /** Resolves at the next client disconnect. */
  nextDisconnect(): Promise<void>;
  close(): Promise<void>;
}

type GenerationPath = '/generate' | '/generate_stream' | '/v1/chat/completions';

const VERSION = '3.3.6';

export async function startTgiStandIn(options: TgiStandInOptions = {}): Promise<TgiStandIn> {
  const stats: TgiStandInStats = {
    requests: 0,
    connections: 0,
    inFlight: 0,
    maxInFlight: 0,
    disconnects: 0,
    healthChecks: 0,
  };
  const received: StandInRequest[] = [];
  const maxConcurrent = options.maxConcurrentRequests ?? 128;
  const modelId = options.modelId ?? 'stand-in/tgi-model';
  const routes: Record<GenerationPath, StandInRoute<TokenPlan>> = {
    '/generate': generateRoute(false),
    '/generate_stream': generateRoute(true),
    '/v1/chat/completions': chatRoute(modelId, VERSION),
  };

  const server = new StandInServer(
    route,
    options.keepAliveTimeoutMs ?? 72_000,
    () => stats.connections++,
    options.at ?? {},
  );
  // Late binding, as TGI: find a free port now, take it only in load().
  await server.bind(options.loaded === false);
  const standIn: TgiStandIn = {
    url: server.url,
    stats,
    received,
    health: 'ready',
    load: () => server.listen(),
    nextDisconnect: () => server.nextDisconnect(),
    close: () => server.close(),
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/health') return health(res);
    if (req.method === 'GET' && path === '/info') return sendJson(res, 200, info());
    if (req.method === 'POST' && Object.hasOwn(routes, path)) return generation(req, res, path as GenerationPath);
    res.writeHead(404).end();
  }

  function health(res: http.ServerResponse): void {
    stats.healthChecks++;
    if (standIn.health === 'ready') return void res.writeHead(200).end();
    if (standIn.health === 'unhealthy') return sendJson(res, 503, { error: 'unhealthy', error_type: 'healthcheck' });
    sendJson(res, 500, { error: 'stand-in health check is broken', error_type: 'healthcheck' });
  }

  function info(): TgiInfo {
    return {
      model_id: modelId,
      model_sha: null,
      model_pipeline_tag: 'text-generation',
      max_concurrent_requests: maxConcurrent,
      max_best_of: 2,
      max_stop_sequences: 4,
      max_input_tokens: 1024,
      max_total_tokens: 2048,
      validation_workers: 2,
      max_client_batch_size: 4,
      router: 'text-generation-router',
      version: VERSION,
      sha: null,
      docker_label: null,
    };
  }

  async function generation(req: http.IncomingMessage, res: http.ServerResponse, path: GenerationPath) {
    const socket = req.socket;
    const reusedConnection = server.arrivedOnReusedConnection(req);
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const request: StandInRequest = {
      number: ++stats.requests,
      route: path,
      body,
      headers: req.headers,
      reusedConnection,
    };
    received.push(request);
    const script = typeof options.script === 'function' ? options.script(request) : (options.script ?? {});
    if (script.resetOnArrival) return void socket.destroy();
    if (script.httpError) {
      const fallback = { error: http.STATUS_CODES[script.httpError.status], error_type: 'http' };
      return sendScriptedError(res, script.httpError, fallback);
    }

    const route = routes[path];
    const stream = route.streams(body);
    const fail = (errorType: TgiErrorType, message: string) => {
      // TGI: on a streaming answer every error is an event in a 200 stream; otherwise, a status per type.
      if (stream) {
        if (!res.headersSent) startSse(res);
        res.end(sseEvent(route.errorEvent(errorType, message, script)) + route.streamEnd(script));
      } else {
        sendJson(res, STATUS_FOR_ERROR[errorType], { error: message, error_type: errorType });
      }
    };

    let plan: TokenPlan;
    try {
      plan = route.plan(body, script);
    } catch (error) {
      if (!(error instanceof RequestFailure)) throw error;
      if (error.beforeStream) return sendJson(res, STATUS_FOR_ERROR[error.errorType], errorBodyOf(error));
      return fail(error.errorType, error.message);
    }
    if (script.overloaded || stats.inFlight >= maxConcurrent) return fail('overloaded', 'Model is overloaded');

    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let serverClosed = false;
    const closeSocket = () => {
      serverClosed = true;
      socket.destroy();
    };
    res.on('close', () => {
      stats.inFlight--;
      if (!res.writableFinished && !serverClosed) {
        stats.disconnects++;
        server.disconnected();
      }
    });
    if (script.hang) return;
    if (stream) startSse(res);

    const gone = () => res.destroyed || res.writableEnded;
    await server.sleep(script.firstTokenDelayMs ?? 0);
    for (let i = 0; i < plan.tokens.length; i++) {
      if (i > 0) await server.sleep(script.tokenDelayMs ?? 0);
      if (gone()) return;
      if (script.errorAfterTokens?.tokens === i) {
        const { errorType, message } = script.errorAfterTokens;
        return fail(errorType, message ?? defaultMessage(errorType));
      }
      if (script.closeAfterTokens === i) return closeSocket();
      if (script.endAfterTokens === i) return void res.end();
      if (stream) for (const event of route.tokenEvents(plan, i)) res.write(sseEvent(event));
    }
    if (gone()) return;
    if (!stream && script.answerBody !== undefined) {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(script.answerBody);
    }
    if (!stream) {
      const { body: answer, headers } = route.answer(plan);
      for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
      return sendJson(res, 200, answer);
    }
    res.end(route.streamEnd(script));
  }

  return standIn;
}

function errorBodyOf(failure: RequestFailure) {
  return { error: failure.message, error_type: failure.errorType };
}
