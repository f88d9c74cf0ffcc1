/** The typed, validated model registry configuration (camelCase; the YAML file is snake_case). */

export type BackendConfig = TgiBackendConfig | OpenAiBackendConfig | LocalBackendConfig | ProcessBackendConfig;

/** A backend whose process the gateway starts and stops itself: the local engine, or any server's command. */
export type SupervisedBackendConfig = LocalBackendConfig | ProcessBackendConfig;

/** A Hugging Face TGI server (or anything speaking its protocol) that runs outside the gateway. */
export interface TgiBackendConfig {
  type: 'tgi';
  /** Base URL without a trailing slash, e.g. http://tgi-qwen2:80. */
  url: string;
}

/** A server that speaks OpenAI's protocol (vLLM, llama.cpp's llama-server, SGLang, Ollama), outside the gateway. */
export interface OpenAiBackendConfig {
  type: 'openai';
  /** The server's root, without a trailing slash or `/v1`, e.g. http://vllm-qwen2:8000. */
  url: string;
  /** The `model` the calls name (vLLM's `--served-model-name`); null: the first that `GET /v1/models` lists. */
  model: string | null;
  /** The environment variable holding the server's API key (sent as a bearer token); null: no key. */
  apiKeyEnv: string | null;
}

/** A local engine (apps/engine) that the gateway starts as a child process. */
export interface LocalBackendConfig {
  type: 'local';
  /** GGUF file, kept as written: a relative path is relative to the gateway's working directory. */
  modelPath: string;
  host: string;
  /** null: the engine picks a free port and the gateway learns it at start-up. */
  port: number | null;
  engine: LocalEngineSettings;
}

/**
 * Any server the gateway starts itself from a command line (the engine, `text-generation-launcher`, `vllm serve`,
 * `llama-server`, `docker run ...`). `${PORT}`, `${MODEL_PATH}` and `${GPU}` in its words are replaced at each start.
 */
export interface ProcessBackendConfig {
  type: 'process';
  /** The program and its arguments, one word each (no shell), placeholders unreplaced. */
  command: string[];
  /** The file `${MODEL_PATH}` stands for, checked before each start (missing → failed); null when there is none. */
  modelPath: string | null;
  host: string;
  /** null: the gateway picks a free port at each start and passes it as `${PORT}`. */
  port: number | null;
  /** The route that answers 200 once the server serves, e.g. /health. */
  health: string;
  /** What stops it (SIGKILL follows after the grace). */
  stopSignal: StopSignal;
  /** The protocol its calls speak: TGI's (TGI, the engine) or OpenAI's (vLLM, llama-server). */
  protocol: 'tgi' | 'openai';
  /** With protocol openai: the `model` the calls name; null: the first of `GET /v1/models`. */
  model: string | null;
}

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * When a backend the gateway runs itself is loaded: `always` (at start, for good), or `on_demand` — by the first
 * request for it, and unloaded after `keepAliveMs` without requests, or sooner when another model needs its GPU memory
 * (never before `minResidencyMs`, so that two models cannot push each other out on every request).
 */
export interface Residency {
  load: 'always' | 'on_demand';
  keepAliveMs: number;
  minResidencyMs: number;
}

/** The engine's own flags (see apps/engine/src/config.ts); null context size lets the engine pick from the model. */
export interface LocalEngineSettings {
  contexts: number;
  sequences: number;
  contextSize: number | null;
  threads: number;
  gpuLayers: number | 'auto';
  maxConcurrentRequests: number;
}

/** Milliseconds. connect/firstByte/interToken/total bound one request; startup bounds a backend's cold start. */
export interface Timeouts {
  connectMs: number;
  firstByteMs: number;
  interTokenMs: number;
  totalMs: number;
  startupMs: number;
}

export interface ModelDescriptor {
  id: string;
  aliases: string[];
  /** The model's only backend, or its first replica's. */
  backend: BackendConfig;
  /**
   * Every replica of the model, `backend` first; absent (as in configs built in code) means `[backend]`. Read it
   * through replicasOf(). The parser writes `replicas: N` of a local backend as N copies of it.
   */
  replicas?: BackendConfig[];
  /**
   * `replicas: {discover: dns, ...}`: the replicas are the addresses a DNS name resolves to, found while the gateway
   * runs (a headless Kubernetes Service of TGI or vLLM pods); `backend` is then the settings each address gets, its URL
   * the name's own. Absent: the replicas are the config's.
   */
  discovery?: DnsDiscovery;
  /**
   * How a request picks among the replicas: `least_outstanding` (absent: the same), or `prefix` — prompts that start
   * alike prefer the same replica while it is not full, so that its KV cache of that start is reused.
   */
  routing?: ReplicaRouting;
  /** A label for humans and /models, e.g. 'gptq-int4' or 'gguf-q8_0'. */
  quantization: string;
  /** GPU memory this model may take (weights + KV cache); 0 for CPU models. */
  vramBudgetGb: number;
  /** Id of the GPU the model is placed on; null = CPU. */
  gpu: string | null;
  /**
   * Requests sent to one replica at once; the model's cap is this times its ready replicas. The rest wait in the
   * gateway's queue.
   */
  maxConcurrent: number;
  /** Requests that may wait in the queue; beyond that the gateway answers 429. 0 = no queue. */
  maxQueued: number;
  /** A request predicted to wait longer than this for a slot (or past its deadline) is refused with 429 at once. */
  maxQueueWaitMs: number;
  /** The ceiling a request may ask for. */
  maxNewTokens: number;
  /** Used when a request does not say. */
  defaultMaxNewTokens: number;
  timeouts: Timeouts;
  /** Absent (as in configs built in code): loaded always. Remote backends are always resident. */
  residency?: Residency;
}

export type ReplicaRouting = 'least_outstanding' | 'prefix';

/** Replicas found in DNS: every A and AAAA record of `host`, each a server on `port`, resolved again every `everyMs`. */
export interface DnsDiscovery {
  host: string;
  port: number;
  everyMs: number;
}

/** The base URL of a discovered replica: its address (an IPv6 one in brackets) and the discovery's port. */
export function discoveredUrl(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** The model's replicas, one or more, its first backend first. */
export function replicasOf(descriptor: Pick<ModelDescriptor, 'backend' | 'replicas'>): BackendConfig[] {
  return descriptor.replicas ?? [descriptor.backend];
}

/** Whether the gateway starts the backend's process itself (and so may load and unload it). */
export function isSupervised(backend: BackendConfig): backend is SupervisedBackendConfig {
  return backend.type === 'local' || backend.type === 'process';
}

/** The model's residency: what it says, or loaded always. */
export function residencyOf(descriptor: Pick<ModelDescriptor, 'residency'>): Residency {
  return descriptor.residency ?? { load: 'always', ...RESIDENCY_DEFAULTS };
}

/** keep_alive and min_residency when a model on demand does not say (Ollama keeps a model 5 minutes too). */
export const RESIDENCY_DEFAULTS = { keepAliveMs: 300_000, minResidencyMs: 10_000 };

export interface GpuConfig {
  id: string;
  memoryGb: number;
}

/** How the dispatch queue orders waiting requests (config: `dispatch:`), the same for every model. */
export interface DispatchConfig {
  /** fifo: arrival order; scenario: by scenarioPriority; shortest_first: fewest max_new_tokens first. */
  priority: 'fifo' | 'scenario' | 'shortest_first';
  /** Lower goes first; a scenario not listed (or none) goes after all listed ones. Used with `scenario`. */
  scenarioPriority: Record<string, number>;
}

export interface RegistryConfig {
  gpus: GpuConfig[];
  /** Absent in configs built in code: FIFO. The parser always fills it in. */
  dispatch?: DispatchConfig;
  /** Model ids that /health/ready waits for (config: `readiness.required: all | [ids]`). */
  requiredForReadiness: string[];
  models: ModelDescriptor[];
}

/** The default registry file of the embedded setup, relative to the working directory. */
export const DEFAULT_REGISTRY_CONFIG_PATH = 'config/models.yaml';
