import {
  checkDispatch,
  checkRegistryRules,
  checkTimeouts,
  checkTokenLimits,
  type IndexedModel,
} from './config-rules.js';
import {
  defaultsSchema,
  dispatchSchema,
  gpusSchema,
  modelListSchema,
  modelSchema,
  readinessSchema,
  dnsDiscoverySchema,
  replicaCountSchema,
  replicaListSchema,
  topLevelSchema,
  type RawBackend,
  type RawDispatch,
  type RawDnsDiscovery,
  type RawLimits,
  type RawModel,
} from './config-schema.js';
import { readYaml } from './read-yaml.js';
import {
  RESIDENCY_DEFAULTS,
  residencyOf,
  type BackendConfig,
  type DispatchConfig,
  type DnsDiscovery,
  type GpuConfig,
  type ModelDescriptor,
  type RegistryConfig,
} from './registry-config.js';
import { RegistryConfigError, type ConfigProblem } from './registry-config-error.js';
import {
  BUILTIN_MODEL_LIMITS,
  DISPATCH_DEFAULTS,
  LOCAL_ENGINE_DEFAULTS,
  LOCAL_HOST_DEFAULT,
  RESOLVE_EVERY_MS_DEFAULT,
  type ModelLimits,
} from './registry-defaults.js';
import { parseSection } from './zod-problems.js';
import { formatPath } from './problem-text.js';

/**
 * Validates a models.yaml text and returns the typed registry config. Every problem in the file is reported in
 * one {@link RegistryConfigError}: each section is checked even when another is broken, and the rules that span
 * keys run on whatever parsed. `source` names the file in messages.
 */
export function parseRegistryConfig(yamlText: string, source: string): RegistryConfig {
  const raw = readYaml(yamlText, source);
  const top = parseSection(topLevelSchema, raw, []);
  if (!isRecord(raw)) throw new RegistryConfigError(source, top.problems);
  const problems: ConfigProblem[] = [...top.problems];
  const take = <T>(result: { data: T | undefined; problems: ConfigProblem[] }): T | undefined => {
    problems.push(...result.problems);
    return result.data;
  };

  // An empty section (`gpus:` with every item commented out) reads as null: treat it as absent.
  const gpuList = raw['gpus'] == null ? [] : take(parseSection(gpusSchema, raw['gpus'], ['gpus']));
  const readiness =
    raw['readiness'] == null ? {} : take(parseSection(readinessSchema, raw['readiness'], ['readiness']));
  const rawDispatch = raw['dispatch'] == null ? {} : take(parseSection(dispatchSchema, raw['dispatch'], ['dispatch']));
  const dispatch = rawDispatch ? toDispatch(rawDispatch) : undefined;
  if (dispatch) problems.push(...checkDispatch(dispatch));
  const rawDefaults = raw['defaults'] == null ? {} : take(parseSection(defaultsSchema, raw['defaults'], ['defaults']));
  const defaults = rawDefaults ? withOverrides(BUILTIN_MODEL_LIMITS, rawDefaults) : BUILTIN_MODEL_LIMITS;
  if (rawDefaults)
    problems.push(...checkTokenLimits(defaults, ['defaults']), ...checkTimeouts(defaults.timeouts, ['defaults']));

  const modelList =
    raw['models'] == null ? missingModels(problems) : take(parseSection(modelListSchema, raw['models'], ['models']));
  const models: IndexedModel[] = [];
  (modelList ?? []).forEach((item, index) => {
    const parsed = take(parseSection(modelSchema, item, ['models', index]));
    if (!parsed) return;
    const backends = take(readBackends(parsed, ['models', index]));
    if (!backends) return;
    const model = toDescriptor(parsed, backends, defaults);
    models.push({ index, model });
    // Only limits the model sets itself are checked here; inherited ones were checked under defaults.
    if (parsed.max_new_tokens !== undefined || parsed.default_max_new_tokens !== undefined)
      problems.push(...checkTokenLimits(model, ['models', index]));
    if (parsed.timeouts !== undefined) problems.push(...checkTimeouts(model.timeouts, ['models', index]));
  });

  const gpus: GpuConfig[] | null = gpuList ? gpuList.map((gpu) => ({ id: gpu.id, memoryGb: gpu.memory_gb })) : null;
  const requiredIds =
    readiness?.required === undefined || readiness.required === 'all' ? null : [...new Set(readiness.required)];
  problems.push(
    ...checkRegistryRules({ gpus, models, requiredForReadiness: requiredIds, writtenIds: writtenIds(modelList) }),
  );

  if (problems.length > 0 || !gpus || !dispatch) throw new RegistryConfigError(source, problems);
  return {
    gpus,
    dispatch,
    // A model on demand is not loaded until asked for: /health/ready cannot wait for it.
    requiredForReadiness:
      requiredIds ?? models.filter(({ model }) => residencyOf(model).load === 'always').map(({ model }) => model.id),
    models: models.map(({ model }) => model),
  };
}

function missingModels(problems: ConfigProblem[]): undefined {
  problems.push({ path: 'models', message: 'missing — add models: with at least one model (see config/README.md)' });
  return undefined;
}

function toDispatch(raw: RawDispatch): DispatchConfig {
  return {
    priority: raw.priority ?? DISPATCH_DEFAULTS.priority,
    scenarioPriority: { ...(raw.scenario_priority ?? DISPATCH_DEFAULTS.scenarioPriority) },
  };
}

/** A model's backends as written: the replicas' list (one for a single backend), or DNS discovery's. */
interface ModelBackends {
  backends: BackendConfig[];
  discovery?: DnsDiscovery;
}

/**
 * The model's backends: `backend:` alone, a `replicas:` list alone, `backend:` (local) with `replicas: N` — N
 * engines of the same settings (a fixed port would be taken by the first) — or `replicas: {discover: dns, ...}` alone.
 */
function readBackends(
  raw: RawModel,
  at: PropertyKey[],
): { data: ModelBackends | undefined; problems: ConfigProblem[] } {
  const { backend, replicas } = raw;
  if (isRecord(replicas)) {
    const found = parseSection(dnsDiscoverySchema, replicas, [...at, 'replicas']);
    if (backend !== undefined)
      found.problems.push({
        path: formatPath([...at, 'backend']),
        message: 'is written beside replicas: {discover: dns} — move its type and settings into replicas:',
      });
    if (found.data?.type === 'tgi')
      for (const key of ['model', 'api_key_env'] as const)
        if (found.data[key] !== undefined)
          found.problems.push({
            path: formatPath([...at, 'replicas', key]),
            message: `is for type: openai only — a TGI server serves one model and takes no key: remove ${key}, or write type: openai`,
          });
    if (found.data === undefined || found.problems.length > 0) return { data: undefined, problems: found.problems };
    return { data: toDiscovered(found.data), problems: found.problems };
  }
  const listed = readListedBackends(raw, at);
  return { data: listed.data === undefined ? undefined : { backends: listed.data }, problems: listed.problems };
}

function readListedBackends(
  raw: RawModel,
  at: PropertyKey[],
): { data: BackendConfig[] | undefined; problems: ConfigProblem[] } {
  const problem = (key: string, message: string) => ({
    data: undefined,
    problems: [{ path: formatPath([...at, key]), message }],
  });
  const { backend, replicas } = raw;
  if (replicas === undefined || replicas === null) {
    if (backend === undefined)
      return problem(
        'backend',
        'missing — write backend: {type: tgi, url: ...}, or replicas: [{type: tgi, url: ...}, ...]',
      );
    return { data: [toBackend(backend)], problems: [] };
  }
  if (Array.isArray(replicas)) {
    if (backend !== undefined)
      return problem(
        'backend',
        'is written beside a replicas: list — move it into the list, or write replicas: N for N local engines',
      );
    const list = parseSection(replicaListSchema, replicas, [...at, 'replicas']);
    return { data: list.data?.map(toBackend), problems: list.problems };
  }
  const count = parseSection(replicaCountSchema, replicas, [...at, 'replicas']);
  if (count.data === undefined) return { data: undefined, problems: count.problems };
  if (backend === undefined)
    return problem(
      'backend',
      `missing — replicas: ${count.data} starts that many engines of a local backend: write backend: {type: local, model_path: ...}`,
    );
  const supervised = backend.type === 'local' || backend.type === 'process';
  if (!supervised && count.data > 1)
    return problem(
      'replicas',
      `${count.data} copies of one ${backend.type} URL would be one server counted ${count.data} times — list each server: replicas: [{type: ${backend.type}, url: ...}, ...]`,
    );
  if (supervised && backend.port != null && count.data > 1)
    return problem(
      'backend.port',
      `${backend.port} can be bound by one of the ${count.data} ${backend.type === 'local' ? 'engines' : 'servers'} only — write port: null so that each ${backend.type === 'local' ? 'picks' : 'gets'} a free one`,
    );
  const one = toBackend(backend);
  return { data: Array.from({ length: count.data }, () => structuredClone(one)), problems: [] };
}

/** Discovery's settings, and the backend every address gets: its URL, until one is found, is the name's own. */
function toDiscovered(raw: RawDnsDiscovery): ModelBackends {
  const discovery = { host: raw.host, port: raw.port, everyMs: raw.resolve_every_ms ?? RESOLVE_EVERY_MS_DEFAULT };
  const url = `http://${raw.host}:${raw.port}`;
  const backend: BackendConfig =
    raw.type === 'tgi'
      ? { type: 'tgi', url }
      : { type: 'openai', url, model: raw.model ?? null, apiKeyEnv: raw.api_key_env ?? null };
  return { backends: [backend], discovery };
}

function toDescriptor(raw: RawModel, { backends, discovery }: ModelBackends, defaults: ModelLimits): ModelDescriptor {
  return {
    id: raw.id,
    aliases: raw.aliases ?? [],
    backend: backends[0]!,
    ...(backends.length > 1 ? { replicas: backends } : {}),
    ...(discovery ? { discovery } : {}),
    ...(raw.routing ? { routing: raw.routing } : {}),
    quantization: raw.quantization,
    vramBudgetGb: raw.vram_budget_gb ?? 0,
    gpu: raw.gpu ?? null,
    ...withOverrides(defaults, raw),
    ...(raw.load === undefined && raw.keep_alive === undefined && raw.min_residency === undefined
      ? {}
      : {
          residency: {
            load: raw.load ?? 'always',
            keepAliveMs: raw.keep_alive ?? RESIDENCY_DEFAULTS.keepAliveMs,
            minResidencyMs: raw.min_residency ?? RESIDENCY_DEFAULTS.minResidencyMs,
          },
        }),
  };
}

function toBackend(raw: RawBackend): BackendConfig {
  if (raw.type === 'tgi') return { type: 'tgi', url: raw.url };
  if (raw.type === 'openai')
    return { type: 'openai', url: raw.url, model: raw.model ?? null, apiKeyEnv: raw.api_key_env ?? null };
  if (raw.type === 'process')
    return {
      type: 'process',
      command: raw.command,
      modelPath: raw.model_path ?? null,
      host: raw.host ?? LOCAL_HOST_DEFAULT,
      port: raw.port ?? null,
      health: raw.health ?? '/health',
      stopSignal: raw.stop_signal ?? 'SIGTERM',
      protocol: raw.protocol ?? 'tgi',
      model: raw.model ?? null,
    };
  const engine = raw.engine ?? {};
  return {
    type: 'local',
    modelPath: raw.model_path,
    host: raw.host ?? LOCAL_HOST_DEFAULT,
    port: raw.port ?? null,
    engine: {
      contexts: engine.contexts ?? LOCAL_ENGINE_DEFAULTS.contexts,
      sequences: engine.sequences ?? LOCAL_ENGINE_DEFAULTS.sequences,
      contextSize: engine.context_size ?? LOCAL_ENGINE_DEFAULTS.contextSize,
      threads: engine.threads ?? LOCAL_ENGINE_DEFAULTS.threads,
      gpuLayers: engine.gpu_layers ?? LOCAL_ENGINE_DEFAULTS.gpuLayers,
      maxConcurrentRequests: engine.max_concurrent_requests ?? LOCAL_ENGINE_DEFAULTS.maxConcurrentRequests,
    },
  };
}

/** Limits written in a block (defaults or a model) over the ones it inherits, key by key, timeouts included. */
function withOverrides(base: ModelLimits, raw: RawLimits): ModelLimits {
  const timeouts = raw.timeouts ?? {};
  return {
    maxConcurrent: raw.max_concurrent ?? base.maxConcurrent,
    maxQueued: raw.max_queued ?? base.maxQueued,
    maxQueueWaitMs: raw.max_queue_wait_ms ?? base.maxQueueWaitMs,
    maxNewTokens: raw.max_new_tokens ?? base.maxNewTokens,
    defaultMaxNewTokens: raw.default_max_new_tokens ?? base.defaultMaxNewTokens,
    timeouts: {
      connectMs: timeouts.connect_ms ?? base.timeouts.connectMs,
      firstByteMs: timeouts.first_byte_ms ?? base.timeouts.firstByteMs,
      interTokenMs: timeouts.inter_token_ms ?? base.timeouts.interTokenMs,
      totalMs: timeouts.total_ms ?? base.timeouts.totalMs,
      startupMs: timeouts.startup_ms ?? base.timeouts.startupMs,
    },
  };
}

function writtenIds(modelList: unknown[] | undefined): Set<string> {
  return new Set(
    (modelList ?? []).flatMap((item) => (isRecord(item) && typeof item['id'] === 'string' ? [item['id']] : [])),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
