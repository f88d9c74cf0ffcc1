import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  clipText,
  installOversizedBodyRefusal,
  jsonShapeProblem,
  type TgiErrorEvent,
  type TgiInfo,
  type TgiSimpleToken,
} from '#backends';
import type { EngineConfigDraft } from '../config.js';
import type { EngineMetrics } from '../engine-metrics.js';
import { EngineError, toErrorBody } from '../errors.js';
import type { InferenceService } from '../inference.js';
import type { LlamaModel, Token } from 'node-llama-cpp';
import type { ModelRuntime } from '../model-runtime.js';
import { tokenTextsOf } from '../token-texts.js';
import { validateGenerateRequest, type RequestFieldOptions } from '../validation.js';
import { ENGINE_VERSION } from '../engine-version.js';
import { abortOnDisconnect } from './client-disconnect.js';
import { answerClientError, installMethodNotAllowed } from './http-refusals.js';
import { registerOpenAiRoutes } from './openai-routes.js';
import { finalStreamEvent, generateResponse } from './responses.js';
import { SseWriter } from './sse.js';

/** How long a client may take to send its headers, and its whole request (the gateway sends each at once). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface EngineServerDeps {
  config: EngineConfigDraft;
  runtime: ModelRuntime;
  inference: InferenceService;
  metrics: EngineMetrics;
}

/** The TGI protocol over the engine: routes only map HTTP to the inference service and back. */
export function buildEngineServer({ config, runtime, inference, metrics }: EngineServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: config.payloadLimit,
    return503OnClosing: true,
    // Bounds on receiving a request (408 past them), never on sending its answer: a long stream is not cut.
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    clientErrorHandler: answerClientError,
  });
  app.removeContentTypeParser('text/plain'); // JSON only, as TGI: anything else is 415
  installMethodNotAllowed(app);
  installOversizedBodyRefusal(
    app,
    config.payloadLimit,
    () => new EngineError('validation', `Request body is larger than the limit of ${config.payloadLimit} bytes`, 413),
  );
  app.addHook('preValidation', (request, _reply, done) => {
    const problem = jsonShapeProblem(request.body);
    done(problem === undefined ? undefined : new EngineError('validation', problem, 400));
  });
  const limits = () => ({
    maxStopSequences: config.maxStopSequences,
    maxTopNTokens: config.maxTopNTokens,
    maxInputTokens: runtime.config?.maxInputTokens ?? Number.MAX_SAFE_INTEGER,
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const { status, body } = wireError(error);
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const route = clipText(`${request.method} ${request.url}`, 200);
    void reply.code(404).send({ error: `No route for ${route}`, error_type: 'not_found' });
  });

  /** `POST /` takes `stream` in the body and answers a JSON request as a one-element array, as TGI does. */
  async function generateJson(
    request: FastifyRequest,
    reply: FastifyReply,
    { allowStreamField = false, asArray = false }: { allowStreamField?: boolean; asArray?: boolean } = {},
  ) {
    const release = inference.admit();
    const abort = abortOnDisconnect(reply);
    try {
      const parsed = inference.validate(request.body, limits(), { allowStreamField });
      const result = await inference.generate(parsed, abort.signal);
      const body = generateResponse(parsed, result);
      // TGI's accounting headers: a caller gets token counts without asking for details.
      void reply.headers({
        'x-prompt-tokens': String(result.inputLength),
        'x-generated-tokens': String(result.tokens.length),
        'x-compute-characters': String(characterCount(request.body)),
      });
      return reply.send(asArray ? [body] : body);
    } finally {
      abort.dispose();
      release();
    }
  }

  /** As TGI does, every error after the headers (validation and overload included) is an event in a 200 stream. */
  async function generateStream(
    request: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    fields: RequestFieldOptions = {},
  ) {
    reply.hijack();
    const sse = new SseWriter(reply.raw, { 'x-compute-characters': String(characterCount(body)) });
    const abort = abortOnDisconnect(reply);
    let release: (() => void) | undefined;
    try {
      release = inference.admit();
      const parsed = inference.validate(body, limits(), { ...fields, streaming: true });
      let index = 0;
      const result = await inference.generate(parsed, abort.signal, (token, topTokens, last) => {
        index++;
        if (!last) sse.send({ index, token, top_tokens: topTokens, generated_text: null, details: null });
      });
      sse.send(finalStreamEvent(parsed, result, index));
    } catch (error) {
      if (!abort.signal.aborted) sse.send(toErrorBody(error).body);
    } finally {
      abort.dispose();
      release?.();
      sse.end();
    }
  }

  app.post('/generate', (request, reply) => generateJson(request, reply));
  app.post('/generate_stream', (request, reply) => generateStream(request, reply, request.body));
  app.post('/', (request, reply) => {
    const body = request.body as { stream?: unknown } | null;
    if (body && typeof body === 'object' && body.stream === true)
      return generateStream(request, reply, body, { allowStreamField: true });
    return generateJson(request, reply, { allowStreamField: true, asArray: true });
  });

  app.post('/tokenize', async (request) => {
    const parsed = validateGenerateRequest(request.body, limits());
    const { model, promptBounds } = runtime;
    if (runtime.state !== 'ready' || !model || !promptBounds)
      throw new EngineError('unavailable', 'Model is not ready');
    let tokens = model.tokenize(await promptBounds.fit(parsed.inputs));
    if (model.tokens.shouldPrependBosToken && model.tokens.bos !== null) tokens = [model.tokens.bos, ...tokens];
    return tokenOffsets(model, tokens);
  });

  registerOpenAiRoutes(app, { config, inference, limits });

  app.get('/health', (_request, reply) => {
    if (runtime.state === 'ready') return reply.code(200).send();
    const error = runtime.state === 'failed' ? `model failed to load: ${runtime.loadError}` : 'unhealthy';
    return reply.code(503).send({ error, error_type: 'healthcheck' });
  });

  app.get('/info', (): TgiInfo => ({
    model_id: config.modelId,
    model_sha: null,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: config.maxConcurrentRequests,
    max_best_of: 1,
    max_stop_sequences: config.maxStopSequences,
    max_input_tokens: runtime.config?.maxInputTokens ?? 0,
    max_total_tokens: runtime.config?.maxTotalTokens ?? 0,
    validation_workers: 1,
    max_client_batch_size: 1,
    router: 'sluice-engine',
    version: ENGINE_VERSION,
    sha: null,
    docker_label: null,
  }));

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  return app;
}

/** Framework errors before a handler runs (bad JSON, size, media type) in TGI's error shape. */
function wireError(error: FastifyError): { status: number; body: TgiErrorEvent } {
  if (error instanceof EngineError) return toErrorBody(error);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: `Request body is larger than the limit: ${error.message}`, error_type: 'validation' },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: { error: 'Expected request with `Content-Type: application/json`', error_type: 'validation' },
      };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      status: 422,
      body: { error: `Failed to parse the request body as JSON: ${error.message}`, error_type: 'validation' },
    };
  }
  return toErrorBody(error);
}

function characterCount(body: unknown): number {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  return typeof inputs === 'string' ? [...inputs].length : 0;
}

/**
 * TGI's /tokenize answer (router/src/server.rs `encoding_to_tokens`, TGI 3.3 and later): each token with its
 * [start, stop) span in UTF-8 bytes of the input and that span's text, so an inner word's token keeps its leading
 * space. Byte-fallback tokens that together make one character share that character's span, as Hugging Face offsets
 * do; a special token the tokenizer added (BOS) spans nothing and its text is "".
 */
function tokenOffsets(model: LlamaModel, tokens: Token[]): TgiSimpleToken[] {
  const texts = tokenTextsOf(model);
  const cursor = texts.follow([]);
  const spans: TgiSimpleToken[] = [];
  let position = 0;
  let run: number[] = [];
  const close = (piece: string) => {
    const stop = position + Buffer.byteLength(piece);
    for (const index of run) spans[index] = { id: tokens[index]!, text: piece, start: position, stop };
    position = stop;
    run = [];
  };
  tokens.forEach((id, index) => {
    if (texts.isSpecial(id)) {
      spans[index] = { id, text: '', start: position, stop: position };
      return;
    }
    run.push(index);
    const piece = cursor.push(id);
    if (piece !== '') close(piece);
  });
  if (run.length > 0) close(cursor.flush());
  return spans;
}
