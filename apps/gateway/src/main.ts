import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Logger, ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { GatewayError } from '#backends';
import { GatewayMetrics } from '#metrics';
import { loadRegistryConfig, ModelRegistry, RegistryConfigError } from '#model-registry';
import { AppModule } from './app.module.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { GatewayConfigError, readGatewayConfig } from './gateway-config.js';
import { GatewayExceptionFilter } from './http/exception.filter.js';
import { installRequestMetrics } from './metrics/request-metrics.hook.js';
import { ReadinessMonitor } from './readiness/readiness-monitor.service.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Flattens class-validator's tree into one readable line: `parameters.top_p must not be greater than 1`. */
function validationMessage(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => text.replace(error.property, path));
    return [...own, ...validationMessage(error.children ?? [], path)];
  });
}

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  let config;
  let registry;
  try {
    config = readGatewayConfig(process.env);
    registry = new ModelRegistry(loadRegistryConfig(config.modelsConfigPath));
  } catch (error) {
    if (error instanceof GatewayConfigError || error instanceof RegistryConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // A caller's request id is kept (so traces join up); otherwise one is made.
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  });
  let statsdFailures = 0;
  const metrics = new GatewayMetrics(config.statsd, {
    // UDP to a daemon that is not there fails quietly or with ECONNREFUSED; say so once, never per request.
    onStatsdError: (error) => {
      if (statsdFailures++ === 0)
        new Logger('Metrics').warn(
          `StatsD at ${config.statsd?.host}:${config.statsd?.port}: ${error.message} (further errors not logged)`,
        );
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, registry, metrics), adapter, {
    logger: ['error', 'warn', 'log'],
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new GatewayError('validation', validationMessage(errors).join('; ')),
    }),
  );
  app.useGlobalFilters(new GatewayExceptionFilter());
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain'); // JSON only: anything else is 415, not a confusing 422
  installRequestMetrics(fastify, metrics, registry);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Sluice gateway')
      .setDescription('One API in front of several quantized models.')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

  await app.listen(config.port, config.host);
  const logger = new Logger('Gateway');
  logger.log(`listening on ${await app.getUrl()} (models from ${config.modelsConfigPath})`);
  app.get(EngineSupervisor).startAll();
  app.get(ReadinessMonitor).start();
  let announcedReady = false;
  for (const entry of registry.list()) {
    entry.onChange((changed, previous) => {
      const { state, coldStartMs, lastError } = changed.status;
      const detail =
        state === 'ready' && coldStartMs !== null
          ? ` (cold start ${coldStartMs} ms)`
          : state === 'unhealthy' && lastError
            ? `: ${lastError.message}`
            : '';
      logger.log(`model ${changed.descriptor.id}: ${previous} -> ${state}${detail}`);
      if (!announcedReady && registry.isReady()) {
        announcedReady = true;
        logger.log(`ready: all required models serve (${Math.round(performance.now() - startedAt)} ms after start)`);
      }
    });
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.get(EngineSupervisor).beginShutdown();
    logger.log(
      `${signal}: no new requests; finishing in-flight ones (grace ${config.shutdownGraceMs} ms), then stopping engines`,
    );
    setTimeout(() => {
      logger.warn('grace period over: exiting with requests still in flight');
      process.exit(1);
    }, config.shutdownGraceMs).unref();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await bootstrap();
