import { type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, installOversizedBodyRefusal } from '#backends';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { installAuthentication } from './auth/authentication.hook.js';
import type { ApiKeys } from './auth/api-keys.js';
import { installMetricsToken } from './auth/metrics-token.hook.js';
import { installBodyShapeCheck } from './http/body-shape.hook.js';
import { answerClientError } from './http/client-error.handler.js';
import { installClientDepartureLog } from './http/client-departure.hook.js';
import { installClosingRefusal } from './http/closing-refusal.hook.js';
import { ShutdownDrain } from './http/shutdown-drain.js';
import { errorAnswer, keepFrameworkErrors } from './http/exception.filter.js';
import { installMethodNotAllowed } from './http/method-not-allowed.hook.js';
import { installRequestIdHeader, requestIdOf } from './http/request-id.js';
import { installRequestMetrics, RequestFollower } from './metrics/request-metrics.hook.js';
import { GatewayServer } from './hot-path/gateway-server.js';
import { HotRoutes } from './hot-path/hot-routes.js';
import { GenerateService } from './generate/generate.service.js';
import { answerGenerate } from './generate/generate-answer.js';
import { OpenAiGenerationService } from './openai/openai-generation.service.js';
import { answerChat } from './openai/chat-answer.js';
import { GatewayValidationPipe } from './http/gateway-validation.pipe.js';
import { encodeSlashInModelId } from './tgi/model-id-url.js';
import { compiledBodyCheck } from './http/compiled-body-check.js';
import { GenerateRequestDto } from './generate/generate-request.dto.js';
import { ChatCompletionRequestDto } from './openai/chat-completion-request.dto.js';
import { CompletionRequestDto } from './openai/completion-request.dto.js';

export interface GatewayAppOptions extends AppModuleOptions {
  /** The API keys every request but the open routes must show one of; absent: callers are known by their address. */
  keys?: ApiKeys;
  /** What main.ts's shutdown drives (Connection: close, the cut when the grace runs out); by default one of its own. */
  drain?: ShutdownDrain;
  /** Nest's log levels; false for none. */
  logger?: LogLevel[] | false;
}

/**
 * The gateway's HTTP application, not yet listening: what main.ts serves and what the in-process tests inject
 * requests into, so both go through the same adapter options, hooks, parsers, error path and OpenAPI document.
 */
export async function createGatewayApp(options: GatewayAppOptions): Promise<NestFastifyApplication> {
  const { config, registry, metrics, keys, logger = ['error', 'warn', 'log'] } = options;
  const server = new GatewayServer();
  const adapter = new FastifyAdapter({
    serverFactory: server.factory,
    // The gateway has no Nest middleware: no middie in every request's way.
    skipMiddie: true,
    bodyLimit: config.bodyLimitBytes,
    // Bounds on receiving a request, not on sending its answer: a slow or half-sent request is answered 408 (by
    // client-error.handler.ts); Node checks them once a second instead of its default 30 s.
    requestTimeout: config.requestTimeoutMs,
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    genReqId: requestIdOf,
    clientErrorHandler: answerClientError,
    // The router's own refusals (a malformed URL 400, an over-long parameter 414) come before any hook or filter.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { status, headers, body } = errorAnswer(error, request);
      void reply.code(status).headers(headers).send(body);
    },
    return503OnClosing: false, // installClosingRefusal answers instead, in the documented shape
    rewriteUrl: (request: { url?: string }) => encodeSlashInModelId(request.url ?? '/'),
  });
  // JSON only: Fastify's own JSON parser and no other (Nest would add a form parser), so anything else is 415.
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, {
    logger,
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain');
  keepFrameworkErrors(fastify);
  installRequestIdHeader(fastify);
  const follower = new RequestFollower(metrics, registry);
  installRequestMetrics(fastify, follower);
  const drain = options.drain ?? new ShutdownDrain();
  drain.install(fastify);
  installClosingRefusal(fastify);
  if (keys) installAuthentication(fastify, keys);
  if (config.metricsToken !== undefined) installMetricsToken(fastify, config.metricsToken);
  installClientDepartureLog(fastify);
  installMethodNotAllowed(fastify);
  installOversizedBodyRefusal(
    fastify,
    config.bodyLimitBytes,
    () =>
      new GatewayError(
        'validation',
        `the request body is larger than the gateway accepts (BODY_LIMIT_BYTES, ${config.bodyLimitBytes} bytes): send a shorter one`,
        { status: 413 },
      ),
  );
  installBodyShapeCheck(fastify);
  // The hot routes' compiled body checks are made now, not by their first request.
  for (const dto of [GenerateRequestDto, ChatCompletionRequestDto, CompletionRequestDto]) compiledBodyCheck(dto);
  const generate = app.get(GenerateService);
  const openAi = app.get(OpenAiGenerationService);
  server.serve(
    new HotRoutes({
      routes: [
        {
          path: '/v1/generate',
          dto: GenerateRequestDto,
          answer: (body, exchange) => answerGenerate(generate, body as GenerateRequestDto, exchange),
        },
        {
          path: '/v1/chat/completions',
          dto: ChatCompletionRequestDto,
          answer: (body, exchange) => answerChat(openAi, body as ChatCompletionRequestDto, exchange),
        },
      ],
      bodyLimitBytes: config.bodyLimitBytes,
      ...(keys ? { keys } : {}),
      drain,
      follower,
      validation: new GatewayValidationPipe(),
      fallback: server.fallback,
    }),
    fastify,
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Sluice gateway')
      .setDescription('One API in front of several quantized models.')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
