/**
 * Rules that span several keys, checked on typed values. The parser runs them on whatever sections parsed, and
 * ModelRegistry runs them again on configs built in code, so that both refuse the same things the same way.
 */
import { formatPath, showGb, showValue } from './problem-text.js';
import {
  isSupervised,
  replicasOf,
  residencyOf,
  type DispatchConfig,
  type GpuConfig,
  type LocalBackendConfig,
  type SupervisedBackendConfig,
  type ModelDescriptor,
  type Timeouts,
} from './registry-config.js';
import type { ConfigProblem } from './registry-config-error.js';

/** A model with its position in the file's `models:` list (models that failed to parse leave gaps). */
export interface IndexedModel {
  index: number;
  model: ModelDescriptor;
}

export interface RegistryRuleInput {
  /** null when the `gpus:` section itself is broken: placement checks are then skipped, not guessed. */
  gpus: GpuConfig[] | null;
  models: IndexedModel[];
  /** Ids listed under `readiness.required`, or null for `all`. */
  requiredForReadiness: string[] | null;
  /** Every id written in the file, parsed or not, so that a broken model is not also reported as unknown. */
  writtenIds: ReadonlySet<string>;
}

export interface TokenAndTimeLimits {
  maxNewTokens: number;
  defaultMaxNewTokens: number;
  timeouts: Timeouts;
}

/** Limits that must agree with each other; `at` is the key path of the block they were written in. */
export function checkLimits(limits: TokenAndTimeLimits, at: PropertyKey[]): ConfigProblem[] {
  return [...checkTokenLimits(limits, at), ...checkTimeouts(limits.timeouts, at)];
}

export function checkTokenLimits(limits: Omit<TokenAndTimeLimits, 'timeouts'>, at: PropertyKey[]): ConfigProblem[] {
  if (limits.defaultMaxNewTokens <= limits.maxNewTokens) return [];
  return [
    {
      path: formatPath([...at, 'default_max_new_tokens']),
      message: `${limits.defaultMaxNewTokens} is above max_new_tokens ${limits.maxNewTokens} — lower it to ${limits.maxNewTokens} or less, or raise max_new_tokens`,
    },
  ];
}

/** Each wait within a request must fit in the request's total time, or the total would fire first. */
export function checkTimeouts(timeouts: Timeouts, at: PropertyKey[]): ConfigProblem[] {
  const partsOfTotal = [
    ['connect_ms', timeouts.connectMs, 'a connection'],
    ['first_byte_ms', timeouts.firstByteMs, 'the first token'],
    ['inter_token_ms', timeouts.interTokenMs, 'the next token'],
  ] as const;
  return partsOfTotal
    .filter(([, value]) => value > timeouts.totalMs)
    .map(([key, value, waitingFor]) => ({
      path: formatPath([...at, 'timeouts', key]),
      message: `${value} is above total_ms ${timeouts.totalMs}: the request would time out while still waiting for ${waitingFor} — lower it to ${timeouts.totalMs} or less, or raise total_ms`,
    }));
}

export function checkRegistryRules(input: RegistryRuleInput): ConfigProblem[] {
  return [
    ...checkNames(input.models),
    ...(input.gpus ? checkGpuPlacement(input.gpus, input.models) : []),
    ...input.models.flatMap(checkLocalEngine),
    ...input.models.flatMap(checkResidency),
    ...checkLocalPorts(input.models),
    ...checkReadiness(input.requiredForReadiness, input.writtenIds),
  ];
}

/** Ids and aliases share one namespace: a request's model_id must resolve to exactly one model. */
function checkNames(models: IndexedModel[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const owners = new Map<string, { index: number; as: 'id' | 'alias' }>();
  for (const { index, model } of models) {
    const first = owners.get(model.id);
    if (first) {
      problems.push({
        path: formatPath(['models', index, 'id']),
        message: `${showValue(model.id)} is already the id of models[${first.index}] — give every model its own id`,
      });
    } else owners.set(model.id, { index, as: 'id' });
  }
  for (const { index, model } of models) {
    model.aliases.forEach((alias, aliasIndex) => {
      const path = formatPath(['models', index, 'aliases', aliasIndex]);
      const owner = owners.get(alias);
      if (!owner) {
        owners.set(alias, { index, as: 'alias' });
        return;
      }
      const whose =
        owner.index === index
          ? 'this model'
          : `models[${owner.index}] (${models.find((m) => m.index === owner.index)!.model.id})`;
      const message =
        owner.as === 'id'
          ? `${showValue(alias)} is already the id of ${whose} — remove the alias or rename one of them`
          : `${showValue(alias)} is already an alias of ${whose} — remove one of them`;
      problems.push({ path, message });
    });
  }
  return problems;
}

function checkGpuPlacement(gpus: GpuConfig[], models: IndexedModel[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const gpuIndex = new Map<string, number>();
  gpus.forEach((gpu, index) => {
    const first = gpuIndex.get(gpu.id);
    if (first === undefined) gpuIndex.set(gpu.id, index);
    else {
      problems.push({
        path: formatPath(['gpus', index, 'id']),
        message: `${showValue(gpu.id)} is already declared by gpus[${first}] — give each GPU its own id`,
      });
    }
  });
  const declared =
    gpus.length === 0
      ? 'no GPU is declared'
      : `declared: ${[...gpuIndex.keys()].map((id) => showValue(id)).join(', ')}`;
  for (const { index, model } of models) {
    if (model.gpu === null) continue;
    if (!gpuIndex.has(model.gpu)) {
      problems.push({
        path: formatPath(['models', index, 'gpu']),
        message: `${showValue(model.gpu)} is not a declared GPU (${declared}) — add {id: ${showValue(model.gpu)}, memory_gb: ...} under gpus:, name a declared GPU, or write gpu: null for CPU`,
      });
    } else if (model.vramBudgetGb === 0) {
      // A zero budget on a GPU would let any number of models claim the same card.
      problems.push({
        path: formatPath(['models', index, 'vram_budget_gb']),
        message: `0 on GPU ${showValue(model.gpu)} — a model on a GPU needs a budget for its weights and KV cache in GB, e.g. vram_budget_gb: 6.8`,
      });
    }
  }
  gpuIndex.forEach((index, id) => {
    const gpu = gpus[index]!;
    // Models loaded always hold their budgets for good; each model on demand must fit beside them, alone.
    const placed = models.filter(({ model }) => model.gpu === id && residencyOf(model).load === 'always');
    const needed = placed.reduce((sum, { model }) => sum + model.vramBudgetGb, 0);
    // Budgets are decimals such as 6.8; compare with a tolerance so that 6.8 + 5.2 fits 12.
    if (needed > gpu.memoryGb + 1e-9) {
      const breakdown = placed.map(({ model }) => `${model.id} ${showGb(model.vramBudgetGb)}`).join(' + ');
      problems.push({
        path: formatPath(['gpus', index]),
        message: `GPU ${showValue(id)} has memory_gb ${showGb(gpu.memoryGb)} but the vram_budget_gb of its models loaded always add up to ${showGb(needed)} (${breakdown}) — lower their budgets to ${showGb(gpu.memoryGb)} GB in all, load some on demand (load: on_demand), or place a model on another GPU`,
      });
      return;
    }
    for (const { index: modelIndex, model } of models) {
      if (model.gpu !== id || residencyOf(model).load !== 'on_demand') continue;
      if (needed + model.vramBudgetGb <= gpu.memoryGb + 1e-9) continue;
      problems.push({
        path: formatPath(['models', modelIndex, 'vram_budget_gb']),
        message: `${showGb(model.vramBudgetGb)} does not fit GPU ${showValue(id)} (memory_gb ${showGb(gpu.memoryGb)}) beside its models loaded always (${showGb(needed)}) — lower it to ${showGb(Math.max(0, gpu.memoryGb - needed))} or less, or place the model on another GPU`,
      });
    }
  });
  return problems;
}

/** The gateway's limits must fit what the engine it starts will accept. */
/** A model's local replicas, each with the key path it was written at; copies of `replicas: N` count once. */
function localReplicas(model: ModelDescriptor): Array<{ backend: LocalBackendConfig; at: PropertyKey[] }> {
  return supervisedReplicas(model).flatMap((replica) =>
    replica.backend.type === 'local' ? [{ backend: replica.backend, at: replica.at }] : [],
  );
}

/** The replicas the gateway starts itself (local and process), as localReplicas. */
function supervisedReplicas(model: ModelDescriptor): Array<{ backend: SupervisedBackendConfig; at: PropertyKey[] }> {
  const seen = new Set<string>();
  return replicasOf(model).flatMap((backend, index) => {
    if (!isSupervised(backend)) return [];
    const text = JSON.stringify(backend);
    if (seen.has(text)) return [];
    seen.add(text);
    return [{ backend, at: index === 0 || !model.replicas ? ['backend'] : ['replicas', index] }];
  });
}

function checkLocalEngine({ index, model }: IndexedModel): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { backend, at } of localReplicas(model)) {
    const { engine } = backend;
    if (engine.gpuLayers !== 0 && model.gpu === null) {
      problems.push({
        path: formatPath(['models', index, ...at, 'engine', 'gpu_layers']),
        message: `${showValue(engine.gpuLayers)} offloads layers to a GPU but the model's gpu is null — write gpu_layers: 0, or place the model on a declared GPU with a vram_budget_gb`,
      });
    }
    if (model.maxConcurrent > engine.maxConcurrentRequests) {
      problems.push({
        path: formatPath(['models', index, 'max_concurrent']),
        message: `${model.maxConcurrent} is above backend.engine.max_concurrent_requests ${engine.maxConcurrentRequests}, so the engine would answer 429 — lower max_concurrent or raise max_concurrent_requests`,
      });
    }
    if (engine.contextSize !== null && model.maxNewTokens >= engine.contextSize) {
      problems.push({
        path: formatPath(['models', index, 'max_new_tokens']),
        message: `${model.maxNewTokens} leaves no room for a prompt in backend.engine.context_size ${engine.contextSize} — lower it below ${engine.contextSize} or raise context_size`,
      });
    }
  }
  return problems;
}

/** Only a backend the gateway starts itself can be loaded on demand: a remote server is up or not by itself. */
function checkResidency({ index, model }: IndexedModel): ConfigProblem[] {
  if (residencyOf(model).load !== 'on_demand') return [];
  const remote = replicasOf(model).find((backend) => !isSupervised(backend));
  if (!remote) return [];
  return [
    {
      path: formatPath(['models', index, 'load']),
      message: `on_demand needs a backend the gateway starts itself, but this one is type: ${remote.type} — write load: always, or run the server as type: process with its command`,
    },
  ];
}

function checkLocalPorts(models: IndexedModel[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const taken = new Map<string, IndexedModel>();
  for (const entry of models) {
    for (const { backend, at } of supervisedReplicas(entry.model)) {
      if (backend.port === null) continue;
      const address = `${backend.host}:${backend.port}`;
      const first = taken.get(address);
      if (!first) taken.set(address, entry);
      else {
        problems.push({
          path: formatPath(['models', entry.index, ...at, 'port']),
          message: `${backend.port} is already the port of models[${first.index}] (${first.model.id}) on ${backend.host} — pick another port, or null for a free one`,
        });
      }
    }
  }
  return problems;
}

function checkReadiness(required: string[] | null, writtenIds: ReadonlySet<string>): ConfigProblem[] {
  if (required === null) return [];
  const known = [...writtenIds].join(', ');
  return required.flatMap((id, index) =>
    writtenIds.has(id)
      ? []
      : [
          {
            path: formatPath(['readiness', 'required', index]),
            message: `${showValue(id)} is not a model id (models: ${known}) — name a declared model, or write required: all`,
          },
        ],
  );
}

/** The scenario names a request may send (its DTO's rule), so that a listed name can actually match one. */
const SCENARIO_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function checkDispatch(dispatch: DispatchConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = Object.keys(dispatch.scenarioPriority)
    .filter((name) => !SCENARIO_NAME.test(name))
    .map((name) => ({
      path: formatPath(['dispatch', 'scenario_priority', name]),
      message: `${showValue(name)} is not a scenario name a request can send (letters, digits, _ and -, at most 64) — rename it, e.g. qa`,
    }));
  if (dispatch.priority === 'scenario' && Object.keys(dispatch.scenarioPriority).length === 0) {
    problems.push({
      path: 'dispatch.scenario_priority',
      message:
        'missing — priority: scenario orders by it: write scenario_priority: {chat: 1, qa: 2, summarize: 3}, or choose priority: fifo',
    });
  }
  return problems;
}
