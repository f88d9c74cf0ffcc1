import { IllegalModelTransitionError, isAllowedTransition, type ModelState, type ModelStatus } from './model-state.js';
import { isSupervised, type ModelDescriptor } from './registry-config.js';

export type ModelChangeListener = (entry: ModelEntry, previous: ModelState) => void;

export interface ModelEntryOptions {
  /** Milliseconds since the epoch; injectable so that tests measure cold starts without waiting. */
  now?: () => number;
  /** Which of the model's replicas this entry tracks (its position in replicasOf); 0 for a model of one. */
  replica?: number;
}

/** One model: its descriptor and the live state machine documented in model-state.ts. */
export class ModelEntry {
  readonly #now: () => number;
  readonly #listeners = new Set<ModelChangeListener>();
  #state: ModelState = 'starting';
  #since: number;
  /** When the current cold start began; null once its ready has been recorded. */
  #coldStartBegan: number | null;
  #coldStartMs: number | null = null;
  #readySince: number | null = null;
  #lastError: { message: string; at: number } | null = null;
  #restarts = 0;
  #address: string | null;
  readonly replica: number;

  constructor(
    readonly descriptor: ModelDescriptor,
    options: ModelEntryOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.replica = options.replica ?? 0;
    this.#since = this.#coldStartBegan = this.#now();
    // A server outside the gateway has its address configured; one the gateway starts is known once it listens.
    this.#address = 'url' in descriptor.backend ? descriptor.backend.url : null;
  }

  get id(): string {
    return this.descriptor.id;
  }

  get state(): ModelState {
    return this.#state;
  }

  /** A snapshot: later changes do not show through it. */
  get status(): ModelStatus {
    return {
      state: this.#state,
      since: new Date(this.#since),
      coldStartMs: this.#coldStartMs,
      readySince: this.#readySince === null ? null : new Date(this.#readySince),
      lastError: this.#lastError && { message: this.#lastError.message, at: new Date(this.#lastError.at) },
      restarts: this.#restarts,
      address: this.#address,
    };
  }

  setAddress(url: string): void {
    this.#address = url.replace(/\/+$/, '');
  }

  /**
   * A (re)start of the backend process: the cold-start clock starts again, even if already starting. A server the
   * gateway runs has no address until it listens again.
   */
  markStarting(): void {
    this.#forgetListeningAddress();
    if (this.#state === 'starting') this.#coldStartBegan = this.#now();
    else this.#enter('starting', (at) => (this.#coldStartBegan = at));
  }

  markLoading(): void {
    this.#enter('loading');
  }

  /** The first ready after each start records the cold-start time; a recovery from unhealthy does not. */
  markReady(): void {
    this.#enter('ready', (at) => {
      if (this.#coldStartBegan === null) return;
      this.#coldStartMs = at - this.#coldStartBegan;
      this.#coldStartBegan = null;
    });
  }

  markUnhealthy(message: string): void {
    if (this.#state === 'unhealthy') this.recordError(message);
    else this.#enter('unhealthy', (at) => (this.#lastError = { message, at }));
  }

  /** The model cannot be served until its file is fixed: the reason shows as its last error, updated on each retry. */
  markFailed(message: string): void {
    if (this.#state === 'failed') this.recordError(message);
    else this.#enter('failed', (at) => (this.#lastError = { message, at }));
  }

  /** Stopped on purpose (an unload, the shutdown): a server the gateway ran no longer has an address. */
  markStopped(): void {
    this.#enter('stopped', () => this.#forgetListeningAddress());
  }

  /** An error worth showing (a failed probe, a crash) that does not by itself change the state. */
  recordError(message: string): void {
    this.#lastError = { message, at: this.#now() };
  }

  incrementRestarts(): void {
    this.#restarts += 1;
  }

  /**
   * Called after every state change, with the state left behind. Every listener runs even if one throws;
   * the first error is then rethrown to the caller of the mark*() method (the state has changed regardless).
   * Returns a function that unsubscribes.
   */
  onChange(listener: ModelChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The address of a server the gateway runs is where its process listened: it goes with the process. */
  #forgetListeningAddress(): void {
    if (isSupervised(this.descriptor.backend)) this.#address = null;
  }

  #enter(to: ModelState, update?: (at: number) => void): void {
    const previous = this.#state;
    if (previous === to) return;
    if (!isAllowedTransition(previous, to)) throw new IllegalModelTransitionError(this.id, previous, to);
    const at = this.#now();
    this.#state = to;
    this.#since = at;
    this.#readySince = to === 'ready' ? at : null;
    update?.(at);
    this.#notify(previous);
  }

  #notify(previous: ModelState): void {
    let failure: { error: unknown } | undefined;
    for (const listener of [...this.#listeners]) {
      try {
        listener(this, previous);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
