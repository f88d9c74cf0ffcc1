import type { ModelEntry } from './model-entry.js';
import { isAllowedTransition, type ModelState } from './model-state.js';

/**
 * What a model of several replicas is, from what its replicas are: it serves while any replica serves; it is
 * loading while one is on its way; it is unhealthy or failed only when none is better off. Earlier is better.
 */
const BEST_FIRST: readonly ModelState[] = ['ready', 'loading', 'starting', 'unhealthy', 'failed', 'stopped'];

export function modelStateOf(replicaStates: readonly ModelState[]): ModelState {
  return BEST_FIRST.find((state) => replicaStates.includes(state)) ?? 'stopped';
}

/**
 * Keeps a model's entry in step with its replicas' entries: each replica change moves the model to modelStateOf,
 * through states the model's state machine allows (ready → loading goes by unhealthy), carrying the replica's last
 * error. `replicas` is read at each change, so that replicas found or lost while the gateway runs (DNS discovery)
 * count: follow() each one that comes, and sync() once one has gone.
 */
export function followReplicas(model: ModelEntry, replicas: () => readonly ModelEntry[]): ReplicaFollowing {
  const syncTo = (why: string) => {
    const now = replicas();
    // No replica at all (every discovered address gone) is no server: unhealthy, not stopped on purpose.
    const target = now.length === 0 ? 'unhealthy' : modelStateOf(now.map((replica) => replica.state));
    for (const step of pathTo(model.state, target)) enter(model, step, why);
  };
  const sync = (changed: ModelEntry) => {
    const why = changed.status.lastError?.message ?? `replica ${changed.replica} is ${changed.state}`;
    syncTo(`replica ${changed.replica}: ${why}`);
  };
  return { follow: (replica) => replica.onChange(sync), sync: syncTo };
}

export interface ReplicaFollowing {
  /** Follows one more replica; returns a function that stops following it. */
  follow(replica: ModelEntry): () => void;
  /** Moves the model to what its replicas are now (after one has gone); `why` is its last error if it fails. */
  sync(why: string): void;
}

/** The shortest run of allowed moves from `from` to `to` (empty when already there). */
export function pathTo(from: ModelState, to: ModelState): ModelState[] {
  if (from === to) return [];
  const cameFrom = new Map<ModelState, ModelState>([[from, from]]);
  const frontier: ModelState[] = [from];
  while (frontier.length > 0) {
    const state = frontier.shift()!;
    for (const next of BEST_FIRST) {
      if (cameFrom.has(next) || !isAllowedTransition(state, next)) continue;
      cameFrom.set(next, state);
      if (next === to) return unwind(cameFrom, from, to);
      frontier.push(next);
    }
  }
  return [to]; // unreachable with today's table: every state reaches every other
}

function unwind(cameFrom: Map<ModelState, ModelState>, from: ModelState, to: ModelState): ModelState[] {
  const path: ModelState[] = [];
  for (let state = to; state !== from; state = cameFrom.get(state)!) path.unshift(state);
  return path;
}

function enter(model: ModelEntry, state: ModelState, why: string): void {
  switch (state) {
    case 'starting':
      return model.markStarting();
    case 'loading':
      return model.markLoading();
    case 'ready':
      return model.markReady();
    case 'unhealthy':
      return model.markUnhealthy(why);
    case 'failed':
      return model.markFailed(why);
    case 'stopped':
      return model.markStopped();
  }
}
