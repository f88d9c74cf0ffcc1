import { checkLimits, checkRegistryRules } from './config-rules.js';
import { ModelEntry, type ModelChangeListener, type ModelEntryOptions } from './model-entry.js';
import { replicasOf, type RegistryConfig } from './registry-config.js';
import { followReplicas } from './replica-follower.js';
import { RegistryConfigError } from './registry-config-error.js';

export type ModelRegistryOptions = ModelEntryOptions;

/** The models the gateway serves, found by id or alias, each with its live state. */
export class ModelRegistry {
  readonly #byName = new Map<string, ModelEntry>();
  readonly #byId = new Map<string, ModelEntry>();
  readonly #entries: ModelEntry[];
  readonly #required: ModelEntry[];
  /** Per model id: one entry per replica. A model of one replica is its own replica's entry. */
  readonly #replicas = new Map<string, ModelEntry[]>();

  constructor(
    readonly config: RegistryConfig,
    options: ModelRegistryOptions = {},
  ) {
    assertConsistent(config);
    this.#entries = config.models.map((descriptor) => new ModelEntry(descriptor, options));
    for (const entry of this.#entries) {
      this.#replicas.set(entry.id, this.#replicaEntries(entry, options));
      this.#byId.set(entry.id, entry);
      for (const name of [entry.id, ...entry.descriptor.aliases]) this.#byName.set(name, entry);
    }
    this.#required = config.requiredForReadiness.map((id) => this.get(id));
  }

  /** By id or alias, case-sensitive (ids are what metrics and logs use; aliases are what clients may send). */
  resolve(idOrAlias: string): ModelEntry | undefined {
    return this.#byName.get(idOrAlias);
  }

  /** The model's replicas, each with its own live state; the model's own state follows theirs (replica-follower.ts). */
  replicas(id: string): ModelEntry[] {
    this.get(id);
    return [...this.#replicas.get(id)!];
  }

  /** Every replica of every model, each reporting its own state changes; returns a function that unsubscribes. */
  onReplicaChange(listener: ModelChangeListener): () => void {
    const unsubscribes = [...this.#replicas.values()].flat().map((replica) => replica.onChange(listener));
    return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
  }

  #replicaEntries(model: ModelEntry, options: ModelRegistryOptions): ModelEntry[] {
    const backends = replicasOf(model.descriptor);
    if (backends.length === 1) return [model];
    const replicas = backends.map(
      (backend, replica) =>
        new ModelEntry({ ...model.descriptor, backend, replicas: backends }, { ...options, replica }),
    );
    followReplicas(model, replicas);
    return replicas;
  }

  list(): ModelEntry[] {
    return [...this.#entries];
  }

  /** By id only; for code that holds an id from the config, so an unknown one is a bug. */
  get(id: string): ModelEntry {
    const entry = this.#byId.get(id);
    if (!entry) throw new Error(`unknown model id "${id}" (models: ${[...this.#byId.keys()].join(', ')})`);
    return entry;
  }

  /** True when every model named by readiness.required is ready (true at once when none is named). */
  isReady(): boolean {
    return this.#required.every((entry) => entry.state === 'ready');
  }

  /** Listens to every model's state changes; returns a function that unsubscribes from all of them. */
  onChange(listener: ModelChangeListener): () => void {
    const unsubscribes = this.#entries.map((entry) => entry.onChange(listener));
    return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
  }
}

/**
 * Configs from parseRegistryConfig already passed these rules; a config built in code must too, or a duplicate
 * alias would silently shadow a model. Per-key rules (types, ranges) are the parser's alone.
 */
function assertConsistent(config: RegistryConfig): void {
  const models = config.models.map((model, index) => ({ index, model }));
  const problems = [
    ...(config.models.length === 0
      ? [{ path: 'models', message: 'the list is empty — declare at least one model' }]
      : []),
    ...models.flatMap(({ index, model }) => checkLimits(model, ['models', index])),
    ...checkRegistryRules({
      gpus: config.gpus,
      models,
      requiredForReadiness: config.requiredForReadiness,
      writtenIds: new Set(config.models.map((model) => model.id)),
    }),
  ];
  if (problems.length > 0) throw new RegistryConfigError('ModelRegistry config', problems);
}
