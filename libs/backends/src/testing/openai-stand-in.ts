import http from 'node:http';
import { wordCount } from './stand-in-route.js';
import { readBody, sendScriptedError, StandInServer, type ScriptedHttpError } from './stand-in-server.js';

/**
 * A TEST STAND-IN for an OpenAI-protocol inference server, in one of two flavours, each answering with that server's
 * documented shapes:
 * - `vllm` (vllm/entrypoints/openai: serving_completion.py, serving_chat.py, protocol.py; api_server.py): the port
 *   refuses connections until the model is loaded; `GET /health` answers 200 with no body; `GET /v1/models` lists the
 *   served name with `max_model_len`; streams are `data: ` events ending `data: [DONE]`, the finishing chunk carries
 *   `stop_reason` (the stop string, or null for the end token), and with `stream_options.include_usage` a last chunk
 *   has no choices and the usage; errors are `{"error": {"message", "type", "param", "code"}}`, with their status
 *   before a stream, as a `data:` event inside one; `model` must name the served model (404 `NotFoundError`).
 * - `llama-server` (ggml-org/llama.cpp tools/server/README.md): binds its port at once and answers every route 503
 *   `{"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}` while loading; `GET /health`
 *   then answers 200 `{"status": "ok"}`; streams open with a role-only chat chunk, finish with an empty-text chunk
 *   that carries the finish reason (completions: with the usage and `timings`), send the chat usage in a chunk without
 *   choices; errors are `{"error": {"code", "message", "type"}}` (`invalid_request_error`, `server_error`, ...); an
 *   error inside a stream is an `error:` SSE field (older builds; OpenAI clients ignore it and the stream just ends)
 *   or a `data: {"error": ...}` event (newer builds), and no `[DONE]` follows.
 * It generates nothing: the "tokens" are the script's strings, the "tokenizer" counts whitespace-separated words.
 */
export type OpenAiFlavour = 'vllm' | 'llama-server';

export interface OpenAiStandInScript {
  /** Token texts (default `['Hello', ',', ' world']`), cut at `max_tokens`. */
  tokens?: string[];
  /** After the headers, before the first token. */
  firstTokenDelayMs?: number;
  tokenDelayMs?: number;
  /** The stream's end: `stop` for the end token (the default when the tokens fit), or a stop string's match. */
  stopString?: string;
  /**
   * An error event after this many tokens (a CUDA error, an engine that died mid-generation). llama-server's form:
   * `field`, the `error: {...}` SSE field of its older builds (the default), or `data`, the `data: {"error": {...}}`
   * event of newer ones; either way the stream ends there, without `[DONE]`.
   */
  errorAfterTokens?: { tokens: number; message?: string; llamaServerForm?: 'field' | 'data' };
  /** Destroys the socket after this many tokens. */
  closeAfterTokens?: number;
  /** Reads the request and never answers. */
  hang?: boolean;
  /** Destroys the connection as the request arrives (a keep-alive socket closed under the client). */
  resetOnArrival?: boolean;
  /** A plain HTTP error, as the server (or a proxy in front of it) sends it. */
  httpError?: ScriptedHttpError;
  /** Leaves out the usage, as servers that ignore `stream_options` do. */
  omitUsage?: boolean;
}

export interface OpenAiStandInRequest {
  number: number;
  route: '/v1/completions' | '/v1/chat/completions';
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  reusedConnection: boolean;
}

export interface OpenAiStandInOptions {
  flavour: OpenAiFlavour;
  script?: OpenAiStandInScript | ((request: OpenAiStandInRequest) => OpenAiStandInScript);
  /** false: loading until `load()` (vLLM: the port refuses; llama-server: 503 "Loading model"). Default true. */
  loaded?: boolean;
  /** The name `GET /v1/models` lists (vLLM's `--served-model-name`, llama-server's `--alias`). */
  servedModel?: string;
  /** vLLM's and llama-server's `--api-key`: the `/v1` routes want `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** true: `/health` answers 404, as servers without the route do (Ollama, many proxies). */
  noHealthRoute?: boolean;
}

export interface OpenAiStandIn {
  readonly url: string;
  readonly flavour: OpenAiFlavour;
  readonly received: readonly OpenAiStandInRequest[];
  readonly stats: { connections: number; inFlight: number; disconnects: number };
  /** vLLM's engine died: /health answers 503 (its EngineDeadError). */
  unhealthy: boolean;
  load(): Promise<void>;
  nextDisconnect(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_TOKENS = ['Hello', ',', ' world'];
const LOADING = { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } };

export async function startOpenAiStandIn(options: OpenAiStandInOptions): Promise<OpenAiStandIn> {
  const { flavour } = options;
  const servedModel = options.servedModel ?? (flavour === 'vllm' ? 'stand-in/vllm-model' : 'stand-in-llama.gguf');
  const received: OpenAiStandInRequest[] = [];
  const stats = { connections: 0, inFlight: 0, disconnects: 0 };
  let loaded = options.loaded !== false;
  // uvicorn's keep-alive default (vLLM); llama-server's is longer. vLLM binds late (after loading), llama-server at once.
  const server = new StandInServer(route, 5_000, () => stats.connections++);
  await server.bind(flavour === 'vllm' && !loaded);

  const standIn: OpenAiStandIn = {
    url: server.url,
    flavour,
    received,
    stats,
    unhealthy: false,
    load: async () => {
      if (flavour === 'vllm' && !server.listening) await server.listen();
      loaded = true;
    },
    nextDisconnect: () => server.nextDisconnect(),
    close: () => server.close(),
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!loaded) return sendJson(res, 503, LOADING); // llama-server's answer to everything while it loads
    if (req.method === 'GET' && path === '/health') return health(res);
    if (!authorized(req)) return sendJson(res, 401, unauthorizedBody());
    if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, modelList());
    if (req.method === 'POST' && (path === '/v1/completions' || path === '/v1/chat/completions'))
      return generation(req, res, path);
    sendJson(res, 404, errorBody(404, `Not Found: ${path}`, 'not_found_error'));
  }

  function health(res: http.ServerResponse): void {
    if (options.noHealthRoute) return sendJson(res, 404, { detail: 'Not Found' });
    if (standIn.unhealthy) return void res.writeHead(503).end();
    if (flavour === 'vllm') return void res.writeHead(200, { 'content-length': '0' }).end();
    sendJson(res, 200, { status: 'ok' });
  }

  function authorized(req: http.IncomingMessage): boolean {
    return options.apiKey === undefined || req.headers.authorization === `Bearer ${options.apiKey}`;
  }

  function unauthorizedBody(): unknown {
    // vLLM answers its own `{"error": "Unauthorized"}`; llama-server an OpenAI-shaped authentication_error.
    return flavour === 'vllm' ? { error: 'Unauthorized' } : errorBody(401, 'Invalid API Key', 'authentication_error');
  }

  function modelList(): unknown {
    const created = Math.floor(Date.now() / 1000);
    const model =
      flavour === 'vllm'
        ? {
            id: servedModel,
            object: 'model',
            created,
            owned_by: 'vllm',
            root: `/models/${servedModel}`,
            parent: null,
            max_model_len: 2048,
            permission: [],
          }
        : { id: servedModel, object: 'model', created, owned_by: 'llamacpp', meta: { n_ctx_train: 2048 } };
    return { object: 'list', data: [model] };
  }

  /** The flavour's error body: vLLM's ErrorInfo, llama-server's format_error_response. */
  function errorBody(status: number, message: string, llamaType: string): unknown {
    if (flavour === 'llama-server') return { error: { code: status, message, type: llamaType } };
    const type = status === 400 ? 'BadRequestError' : status === 404 ? 'NotFoundError' : 'InternalServerError';
    return { error: { message, type, param: null, code: status } };
  }

  async function generation(req: http.IncomingMessage, res: http.ServerResponse, path: OpenAiStandInRequest['route']) {
    const socket = req.socket;
    const reusedConnection = server.arrivedOnReusedConnection(req);
    const text = await readBody(req);
    let body: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(text);
      body = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    } catch {
      return sendJson(res, 400, errorBody(400, 'Expecting value: line 1 column 1 (char 0)', 'invalid_request_error'));
    }
    const request: OpenAiStandInRequest = {
      number: received.length + 1,
      route: path,
      body,
      headers: req.headers,
      reusedConnection,
    };
    received.push(request);
    const script = typeof options.script === 'function' ? options.script(request) : (options.script ?? {});
    if (script.resetOnArrival) return void socket.destroy();
    if (script.httpError) return sendScriptedError(res, script.httpError, {});
    const chat = path === '/v1/chat/completions';
    // vLLM checks the model name first; llama-server serves its one model whatever the name.
    if (flavour === 'vllm' && body.model !== undefined && body.model !== servedModel)
      return sendJson(
        res,
        404,
        errorBody(
          404,
          `The model \`${typeof body.model === 'string' ? body.model : JSON.stringify(body.model)}\` does not exist.`,
          '',
        ),
      );
    const maxTokens = body.max_tokens;
    if (maxTokens !== undefined && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)) {
      const message =
        flavour === 'vllm'
          ? `max_tokens must be at least 1, got ${JSON.stringify(maxTokens)}.`
          : '"max_tokens" must be positive';
      return sendJson(res, 400, errorBody(400, message, 'invalid_request_error'));
    }
    // A chat may be asked for in one piece (`stream: false`): one `chat.completion` once the generation is done.
    const oneAnswer = chat && body.stream !== true;
    if (body.stream !== true && !oneAnswer) {
      return sendJson(
        res,
        400,
        errorBody(400, 'the stand-in answers streamed completions only', 'invalid_request_error'),
      );
    }

    const texts = script.tokens ?? DEFAULT_TOKENS;
    const limit = typeof maxTokens === 'number' ? maxTokens : Number.MAX_SAFE_INTEGER;
    const tokens = texts.slice(0, limit);
    const finishReason = texts.length > limit ? 'length' : 'stop';
    const promptTokens = chat
      ? chatWords(body.messages)
      : wordCount(typeof body.prompt === 'string' ? body.prompt : '');
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${Math.random().toString(16).slice(2, 18)}`;
    const created = Math.floor(Date.now() / 1000);
    const model = flavour === 'vllm' ? servedModel : typeof body.model === 'string' ? body.model : servedModel;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    };
    const identity =
      flavour === 'vllm' ? { id, created, model } : { created, model, system_fingerprint: 'b6000-stand-in', id };
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const chunk = (choice: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => ({
      ...identity,
      object,
      choices: choice === null ? [] : [{ index: 0, ...choice }],
      ...extra,
    });
    const piece = (textPiece: string, reason: string | null) => {
      const content = chat ? { delta: { content: textPiece } } : { text: textPiece };
      const stopReason =
        flavour === 'vllm' ? { stop_reason: reason === 'stop' ? (script.stopString ?? null) : null } : {};
      return { ...content, logprobs: null, finish_reason: reason, ...stopReason };
    };

    stats.inFlight++;
    let serverClosed = false;
    res.on('close', () => {
      stats.inFlight--;
      if (!res.writableFinished && !serverClosed) {
        stats.disconnects++;
        server.disconnected();
      }
    });
    if (script.hang) return;
    const gone = () => res.destroyed || res.writableEnded;
    if (oneAnswer) return answerWhole();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);

    await server.sleep(script.firstTokenDelayMs ?? 0);
    if (gone()) return;
    if (chat) send(chunk({ delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }));
    for (let i = 0; i < tokens.length; i++) {
      if (i > 0) await server.sleep(script.tokenDelayMs ?? 0);
      if (gone()) return;
      if (script.errorAfterTokens?.tokens === i) return streamError(script.errorAfterTokens);
      if (script.closeAfterTokens === i) {
        serverClosed = true;
        return void socket.destroy();
      }
      // vLLM puts the finish reason on the last token's chunk; llama-server sends it in an empty chunk of its own.
      const last = i === tokens.length - 1 && flavour === 'vllm';
      send(chunk(piece(tokens[i]!, last ? finishReason : null)));
    }
    if (gone()) return;
    if (flavour === 'llama-server') {
      const final = piece('', finishReason);
      const withUsage = !chat && !script.omitUsage ? { usage, timings: timings(tokens.length) } : {};
      send(chunk(chat ? { ...final, delta: {} } : final, withUsage));
    } else if (tokens.length === 0) {
      send(chunk(piece('', finishReason)));
    }
    const usageChunk = includeUsage && !script.omitUsage && (chat || flavour === 'vllm');
    if (usageChunk)
      send(chunk(null, { usage, ...(flavour === 'llama-server' ? { timings: timings(tokens.length) } : {}) }));
    res.end('data: [DONE]\n\n');

    /** The same generation, paced the same way, answered as one `chat.completion` (nothing is written before its end). */
    async function answerWhole() {
      await server.sleep(script.firstTokenDelayMs ?? 0);
      for (let i = 0; i < tokens.length; i++) {
        if (i > 0) await server.sleep(script.tokenDelayMs ?? 0);
        if (gone()) return;
        if (script.errorAfterTokens?.tokens === i)
          return sendJson(res, 500, errorBody(500, script.errorAfterTokens.message ?? 'CUDA error', 'server_error'));
        if (script.closeAfterTokens === i) {
          serverClosed = true;
          return void socket.destroy();
        }
      }
      if (gone()) return;
      const { finish_reason, stop_reason } = piece('', finishReason) as {
        finish_reason: string;
        stop_reason?: unknown;
      };
      const message = { role: 'assistant', content: tokens.join('') };
      const choice = { message, logprobs: null, finish_reason, ...(flavour === 'vllm' ? { stop_reason } : {}) };
      sendJson(res, 200, { ...chunk(choice), object: 'chat.completion', ...(script.omitUsage ? {} : { usage }) });
    }

    function streamError({
      message = 'CUDA error: an illegal memory access was encountered',
      llamaServerForm = 'field',
    }) {
      if (flavour === 'vllm') {
        send({ error: { message, type: 'InternalServerError', param: null, code: 500 } });
        return void res.end('data: [DONE]\n\n');
      }
      const error = { code: 500, message, type: 'server_error' };
      res.end(
        llamaServerForm === 'field' ? `error: ${JSON.stringify(error)}\n\n` : `data: ${JSON.stringify({ error })}\n\n`,
      );
    }
  }

  return standIn;
}

function timings(predicted: number) {
  return { prompt_n: 1, prompt_ms: 1, predicted_n: predicted, predicted_ms: predicted, predicted_per_second: 1000 };
}

function chatWords(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  return messages.reduce<number>((sum, m) => {
    const content = (m as { content?: unknown } | null)?.content;
    return sum + (typeof content === 'string' ? wordCount(content) : 0);
  }, 0);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
