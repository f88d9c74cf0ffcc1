import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { GatewayMetrics } from '#metrics';
import { loadRegistryConfig, ModelRegistry, RegistryConfigError } from '#model-registry';
import { createGatewayApp } from './create-gateway-app.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { GatewayConfigError, readGatewayConfig } from './gateway-config.js';
import { describeListeningAddress } from './http/listening-address.js';
import { ReadinessMonitor } from './readiness/readiness-monitor.service.js';

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
  const app = await createGatewayApp({ config, registry, metrics });
  await app.listen(config.port, config.host);
  const logger = new Logger('Gateway');
  const address = describeListeningAddress(app.getHttpServer().address());
  logger.log(`listening on ${address} (models from ${config.modelsConfigPath})`);
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
