import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from '../auth/api-keys.js';
import { BackendDirectory } from '../backends/backend-directory.js';
import { createGatewayApp } from '../create-gateway-app.js';
import type { ShutdownDrain } from '../http/shutdown-drain.js';
import { EngineSupervisor } from '../engines/engine-supervisor.service.js';
import { readGatewayConfig } from '../gateway-config.js';
import { ScriptedBackend } from './scripted-backend.js';

/**
 * Two TGI models behind scripted backends (nothing listens on their URL): `qwen2` (alias `qwen2-7b`) and
 * `llama3`, each with one slot and one place in its queue, so a held request and a queued one fill it.
 */
export const TEST_REGISTRY_YAML = `gpus: []
readiness: { required: all }
defaults:
  max_concurrent: 1
  max_queued: 1
  max_new_tokens: 64
  default_max_new_tokens: 16
  timeouts: { connect_ms: 1000, first_byte_ms: 1000, inter_token_ms: 1000, total_ms: 5000, startup_ms: 60000 }
models:
  - { id: qwen2, aliases: [qwen2-7b], quantization: gptq-int4, backend: { type: tgi, url: "http://127.0.0.1:9" } }
  - { id: llama3, quantization: gptq-int4, backend: { type: tgi, url: "http://127.0.0.1:9" } }
`;

/** The smallest body limit the config allows, so a 413 needs only a few kB. */
export const TEST_BODY_LIMIT_BYTES = 1024;

export interface InProcessGateway {
  app: NestFastifyApplication;
  registry: ModelRegistry;
  /** The backend of every model (the directory makes one per model; they all share this one). */
  backend: ScriptedBackend;
  /** The keys file the gateway watches, when started with keysYaml. */
  keysFile?: string;
  close(): Promise<void>;
}

/**
 * The gateway as main.ts builds it — same adapter options, hooks, validation pipe, exception filter and OpenAPI
 * document — initialised but not listening (requests go in through `app.inject`, unless the caller listens), with
 * its backends started as main.ts starts them and every model ready; no engine, no Redis, no StatsD.
 */
export async function startInProcessGateway({
  bodyLimitBytes = TEST_BODY_LIMIT_BYTES,
  registryYaml = TEST_REGISTRY_YAML,
  keysYaml,
  env = {},
  drain,
}: {
  bodyLimitBytes?: number;
  registryYaml?: string;
  /**
   * A keys file's text (api-keys-file.ts), written to a file of its own that the gateway watches as API_KEYS_FILE:
   * every request but the open routes then needs one of its keys. Its path is `keysFile`.
   */
  keysYaml?: string;
  /** More settings, as the environment gives them (METRICS_TOKEN, API_KEYS_REDIS, ...). */
  env?: Record<string, string>;
  /** The shutdown drain a test drives as main.ts's SIGTERM does. */
  drain?: ShutdownDrain;
} = {}): Promise<InProcessGateway> {
  const keysFile = keysYaml === undefined ? undefined : join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.yaml');
  if (keysFile !== undefined) writeFileSync(keysFile, keysYaml!);
  const config = readGatewayConfig({
    STATSD_HOST: 'off',
    BODY_LIMIT_BYTES: String(bodyLimitBytes),
    ...(keysFile !== undefined ? { API_KEYS_FILE: keysFile } : {}),
    ...env,
  });
  const registry = new ModelRegistry(parseRegistryConfig(registryYaml, 'in-process-gateway.yaml'));
  const backend = new ScriptedBackend('http://127.0.0.1:9');
  const metrics = new GatewayMetrics(null, { processMetrics: false });
  const keys = ApiKeys.open(config, (name) => registry.resolve(name)?.descriptor.id ?? name, {
    log: () => {},
    error: () => {},
  });
  const app = await createGatewayApp({
    config,
    registry,
    metrics,
    backends: new BackendDirectory(() => backend),
    ...(keys ? { keys } : {}),
    ...(drain ? { drain } : {}),
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  app.get(EngineSupervisor).startAll();
  for (const entry of registry.list()) entry.markReady();
  return {
    app,
    registry,
    backend,
    ...(keysFile !== undefined ? { keysFile } : {}),
    close: async () => {
      await app.close();
      await keys?.close();
    },
  };
}
