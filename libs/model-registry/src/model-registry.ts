import { checkLimits, checkRegistryRules } from './config-rules.js';
import { ModelEntry, type ModelChangeListener, type ModelEntryOptions } from './model-entry.js';
import { replicasOf, type RegistryConfig } from './registry-config.js';
import { followReplicas, type ReplicaFollowing } from './replica-follower.js';
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
  /** Per model of several replicas, or of discovered ones: the model's state following theirs. */
  readonly #following = new Map<string, ReplicaFollowing>();
  /** What each replica follows besides its model (onReplicaChange), and how to stop: for replicas that go. */
  readonly #replicaListeners = new Set<ModelChangeListener>();
  readonly #unfollow = new Map<ModelEntry, Array<() => void>>();
  readonly #options: ModelRegistryOptions;
  /** Discovered replicas' numbers: never reused, so that a replica's metrics and /models row are its own. */
  readonly #nextReplica = new Map<string, number>();

  constructor(
    readonly config: RegistryConfig,
    options: ModelRegistryOptions = {},
  ) {
    assertConsistent(config);
    this.#options = options;
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

  /**
   * Every replica of every model, each reporting its own state changes — also replicas found later; returns a
   * function that unsubscribes.
   */
  onReplicaChange(listener: ModelChangeListener): () => void {
    this.#replicaListeners.add(listener);
    const unsubscribes = [...this.#replicas.values()].flat().map((replica) => replica.onChange(listener));
    return () => {
      this.#replicaListeners.delete(listener);
      unsubscribes.forEach((unsubscribe) => unsubscribe());
    };
  }

  /**
   * A replica found at `url` (DNS discovery) of a model whose descriptor has `discovery`: its entry, with the
   * discovery's backend settings at that URL, in state `starting` until its backend is probed.
   */
  addReplica(id: string, url: string): ModelEntry {
    const model = this.get(id);
    if (!model.descriptor.discovery) throw new Error(`model "${id}" has no discovery: its replicas are the config's`);
    const replica = this.#nextReplica.get(id) ?? 0;
    this.#nextReplica.set(id, replica + 1);
    const backend = { ...model.descriptor.backend, url };
    const entry = new ModelEntry({ ...model.descriptor, backend }, { ...this.#options, replica });
    this.#replicas.get(id)!.push(entry);
    this.#unfollow.set(entry, [
      this.#following.get(id)!.follow(entry),
      ...[...this.#replicaListeners].map((listener) => entry.onChange(listener)),
    ]);
    return entry;
  }

  /**
   * A discovered replica that has gone: out of replicas() at once, then stopped, so that the model and every
   * onReplicaChange listener see the replicas left.
   */
  removeReplica(id: string, replica: number, why: string): void {
    const replicas = this.#replicas.get(id);
    const index = replicas?.findIndex((entry) => entry.replica === replica) ?? -1;
    if (index < 0) return;
    const [entry] = replicas!.splice(index, 1) as [ModelEntry];
    entry.recordError(why);
    if (entry.state === 'stopped') this.#following.get(id)!.sync(`replica ${replica}: ${why}`);
    else entry.markStopped();
    this.#unfollow.get(entry)?.forEach((unsubscribe) => unsubscribe());
    this.#unfollow.delete(entry);
  }

  #replicaEntries(model: ModelEntry, options: ModelRegistryOptions): ModelEntry[] {
    if (model.descriptor.discovery) {
      const found: ModelEntry[] = [];
      this.#following.set(
        model.id,
        followReplicas(model, () => found),
      );
      return found;
    }
    const backends = replicasOf(model.descriptor);
    if (backends.length === 1) return [model];
    const replicas = backends.map(
      (backend, replica) =>
        new ModelEntry({ ...model.descriptor, backend, replicas: backends }, { ...options, replica }),
    );
    const following = followReplicas(model, () => replicas);
    for (const replica of replicas) following.follow(replica);
    this.#following.set(model.id, following);
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
