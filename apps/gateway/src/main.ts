import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { GatewayMetrics } from '#metrics';
import { loadRegistryConfig, ModelRegistry, RegistryConfigError } from '#model-registry';
import { missingBackendKeys } from './backends/backend-factory.js';
import { createGatewayApp } from './create-gateway-app.js';
import { ReplicaDiscovery } from './replicas/replica-discovery.service.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { ApiKeys } from './auth/api-keys.js';
import { ApiKeysFileError } from './auth/api-keys-file.js';
import { GatewayConfigError, listenHost, readGatewayConfig } from './gateway-config.js';
import { describeListeningAddress } from './http/listening-address.js';
import { ShutdownDrain } from './http/shutdown-drain.js';
import { ReadinessMonitor } from './readiness/readiness-monitor.service.js';

/** After the grace: the answers' flush, the engines' own stop (SIGTERM, then SIGKILL after 10 s) and some slack. */
const LAST_RESORT_MS = 20_000;

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  let config;
  let registry;
  let keys;
  let host;
  try {
    config = readGatewayConfig(process.env);
    registry = new ModelRegistry(loadRegistryConfig(config.modelsConfigPath));
    const missingKeys = missingBackendKeys(registry);
    if (missingKeys.length > 0) throw new RegistryConfigError(config.modelsConfigPath, missingKeys);
    const known = registry;
    keys = ApiKeys.open(config, (name) => known.resolve(name)?.descriptor.id ?? name, new Logger('ApiKeys'));
    host = listenHost(config, keys !== undefined);
  } catch (error) {
    if (
      error instanceof GatewayConfigError ||
      error instanceof RegistryConfigError ||
      error instanceof ApiKeysFileError
    ) {
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
  const drain = new ShutdownDrain();
  const app = await createGatewayApp({ config, registry, metrics, drain, ...(keys ? { keys } : {}) });
  await app.listen(config.port, host);
  const logger = new Logger('Gateway');
  const access = keys
    ? `API keys from ${keys.source}`
    : config.authOff
      ? 'no API keys (AUTH=off)'
      : 'no API keys: only this machine can reach it (set API_KEYS_FILE to serve others)';
  const address = describeListeningAddress(app.getHttpServer().address());
  logger.log(`listening on ${address} (models from ${config.modelsConfigPath}; ${access})`);
  app.get(EngineSupervisor).startAll();
  app.get(ReplicaDiscovery).start();
  app.get(ReadinessMonitor).start();
  let announcedReady = false;
  const announceIfReady = () => {
    if (announcedReady || !registry.isReady()) return;
    announcedReady = true;
    logger.log(`ready: all required models serve (${Math.round(performance.now() - startedAt)} ms after start)`);
  };
  for (const entry of registry.list()) {
    entry.onChange((changed, previous) => {
      const { state, coldStartMs, lastError } = changed.status;
      const detail =
        state === 'ready' && coldStartMs !== null
          ? ` (cold start ${coldStartMs} ms)`
          : (state === 'unhealthy' || state === 'failed') && lastError
            ? `: ${lastError.message}`
            : '';
      logger.log(`model ${changed.descriptor.id}: ${previous} -> ${state}${detail}`);
      announceIfReady();
    });
  }
  // Models on demand only: nothing to wait for.
  announceIfReady();

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const engines = app.get(EngineSupervisor);
    engines.beginShutdown();
    drain.begin();
    logger.log(
      `${signal}: no new requests; finishing ${drain.inFlightCount} in flight (grace ${config.shutdownGraceMs} ms), then stopping engines`,
    );
    // Past the grace, whatever is still in flight is answered 503 (or a stream's final error event) before its socket
    // closes: a client sees an answer it can retry, never a reset.
    const graceOver = setTimeout(() => {
      logger.warn(`grace period over: answering the ${drain.inFlightCount} requests still in flight with 503`);
      void drain.cutInFlight().then(() => app.getHttpServer().closeAllConnections());
    }, config.shutdownGraceMs);
    // The last resort, should closing hang anyway: the engines still go (their IPC channel closes with us).
    setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + LAST_RESORT_MS).unref();
    void app
      .close()
      .then(() => keys?.close())
      .then(
        () => {
          clearTimeout(graceOver);
          logger.log('stopped: engines gone, every request answered');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await bootstrap();
