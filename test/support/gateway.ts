import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './engine.js';
import { request } from './http-client.js';
import { ManagedProcess } from './processes.js';

export interface RunningGateway {
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** A registry file for a test: `models:` YAML (indented list items) under the given defaults. */
export function writeModelsConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-gateway-'));
  const path = join(dir, 'models.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** The shipped models as local engines, as config/models.yaml has them, with test-sized limits. */
export function localModelsYaml(
  options: { maxConcurrent?: number; maxQueued?: number; required?: string } = {},
): string {
  const model = (id: string, file: string) => `
  - id: ${id}
    aliases: [${id}-tiny]
    quantization: gguf-q8_0
    vram_budget_gb: 0
    gpu: null
    backend:
      type: local
      model_path: ${REPO_ROOT}models/${file}
      host: 127.0.0.1
      port: null
      engine: { contexts: 1, sequences: 4, threads: 1, context_size: 1024, gpu_layers: 0, max_concurrent_requests: 128 }`;
  return `gpus: []
readiness:
  required: ${options.required ?? 'all'}
defaults:
  max_concurrent: ${options.maxConcurrent ?? 4}
  max_queued: ${options.maxQueued ?? 256}
  max_new_tokens: 256
  default_max_new_tokens: 32
  timeouts: { connect_ms: 2000, first_byte_ms: 20000, inter_token_ms: 10000, total_ms: 30000, startup_ms: 60000 }
models:${model('qwen2', 'qwen2-tiny-q8_0.gguf')}${model('llama3', 'llama3-tiny-q8_0.gguf')}
`;
}

export interface EngineTimeouts {
  first_byte_ms: number;
  inter_token_ms: number;
  total_ms: number;
}

/**
 * A registry file of local engines, one per entry of `models` (id → GGUF path), each with one context of two sequences on one thread:
 * the set-up of the tests that kill, stop or leave an engine mid-generation. No timeout but the given ones ends a
 * test's request (connect 1 s, startup 60 s).
 */
export function slowEnginesConfig(
  models: Record<string, string>,
  options: { defaultMaxNewTokens: number; timeouts: EngineTimeouts },
): string {
  const { first_byte_ms, inter_token_ms, total_ms } = options.timeouts;
  const engine = ([id, path]: [string, string]) => `
  - id: ${id}
    quantization: gguf-q8_0
    vram_budget_gb: 0
    gpu: null
    backend:
      type: local
      model_path: ${path}
      host: 127.0.0.1
      port: null
      engine: { contexts: 1, sequences: 2, threads: 1, context_size: 512, gpu_layers: 0, max_concurrent_requests: 16 }`;
  return writeModelsConfig(`gpus: []
readiness: { required: all }
defaults:
  max_concurrent: 2
  max_queued: 16
  max_new_tokens: 400
  default_max_new_tokens: ${options.defaultMaxNewTokens}
  timeouts: { connect_ms: 1000, first_byte_ms: ${first_byte_ms}, inter_token_ms: ${inter_token_ms}, total_ms: ${total_ms}, startup_ms: 60000 }
models:${Object.entries(models).map(engine).join('')}
`);
}

export interface TgiModelsOptions {
  maxConcurrent?: number;
  maxQueued?: number;
  maxQueueWaitMs?: number;
  startupMs?: number;
  firstByteMs?: number;
  interTokenMs?: number;
  totalMs?: number;
}

/** A registry with one model, `qwen2`, served by a TGI(-protocol) backend at `url` on a declared 12 GB GPU. */
export function tgiModelsYaml(url: string, options: TgiModelsOptions = {}): string {
  return `gpus: [{ id: "0", memory_gb: 12 }]
readiness: { required: all }
defaults:
  max_concurrent: ${options.maxConcurrent ?? 3}
  max_queued: ${options.maxQueued ?? 5}${options.maxQueueWaitMs === undefined ? '' : `\n  max_queue_wait_ms: ${options.maxQueueWaitMs}`}
  max_new_tokens: 64
  default_max_new_tokens: 16
  timeouts: { connect_ms: 1000, first_byte_ms: ${options.firstByteMs ?? 800}, inter_token_ms: ${options.interTokenMs ?? 2000}, total_ms: ${options.totalMs ?? 8000}, startup_ms: ${options.startupMs ?? 60000} }
models:
  - id: qwen2
    aliases: [Qwen2-7B-Instruct-GPTQ-Int4]
    quantization: gptq-int4
    vram_budget_gb: 6.8
    gpu: "0"
    backend: { type: tgi, url: ${url} }
`;
}

export interface EngineModelsOptions {
  maxConcurrent?: number;
  maxQueued?: number;
}

/**
 * Both shipped models served by engines the test started, each behind the gateway as a TGI backend (as the compose
 * CPU profile runs them: engines as services, gateway replicas in front), aliased by their hub-style names.
 */
export function engineModelsYaml(urls: Record<'qwen2' | 'llama3', string>, options: EngineModelsOptions = {}): string {
  const model = (id: string, alias: string, url: string) => `
  - { id: ${id}, aliases: ["${alias}"], quantization: gguf-q8_0, backend: { type: tgi, url: "${url}" } }`;
  return `gpus: []
readiness: { required: all }
defaults:
  max_concurrent: ${options.maxConcurrent ?? 2}
  max_queued: ${options.maxQueued ?? 8}
  max_new_tokens: 64
  default_max_new_tokens: 16
  timeouts: { connect_ms: 2000, first_byte_ms: 20000, inter_token_ms: 10000, total_ms: 30000, startup_ms: 60000 }
models:${model('qwen2', 'Qwen/Qwen2-tiny', urls.qwen2)}${model('llama3', 'meta-llama/Llama3-tiny', urls.llama3)}
`;
}

/** Starts the built gateway on a free port; resolves once it listens (and, by default, once it is ready). */
export async function startGateway(
  configPath: string,
  options: { waitReady?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<RunningGateway> {
  const process = ManagedProcess.start(globalThis.process.execPath, [`${REPO_ROOT}dist/apps/gateway/src/main.js`], {
    MODELS_CONFIG: configPath,
    PORT: '0',
    HOST: '127.0.0.1',
    HEALTH_POLL_MS: '200',
    // Tests that read StatsD point it at their own listener; the rest send nothing to whatever owns port 8125.
    STATSD_HOST: 'off',
    ...options.env,
  });
  // The gateway's address and readiness come from its log: unlike an engine, it reports nothing over an IPC channel.
  const [, url] = await process.waitForLine(/listening on (http:\/\/[^\s]+)/);
  const gateway = { url: url!.replace('[::1]', '127.0.0.1'), process, stop: () => process.stop() };
  if (options.waitReady ?? true) {
    try {
      await process.waitForLine(/ready: all required models serve/, 60_000);
    } catch (error) {
      await gateway.stop();
      throw error;
    }
  }
  return gateway;
}

export async function modelView(gatewayUrl: string, id: string): Promise<any> {
  return (await request(`${gatewayUrl}/models/${id}`)).json();
}

/** Polls GET /models/:id until `predicate` holds or the deadline passes. */
export async function waitForModel(
  gatewayUrl: string,
  id: string,
  predicate: (view: any) => boolean,
  timeoutMs = 30_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await modelView(gatewayUrl, id);
    if (predicate(view)) return view;
    if (Date.now() > deadline) throw new Error(`model ${id} never matched; last view: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
