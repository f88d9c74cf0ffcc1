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
 * error. Returns a function that stops following.
 */
export function followReplicas(model: ModelEntry, replicas: readonly ModelEntry[]): () => void {
  const sync = (changed: ModelEntry) => {
    const target = modelStateOf(replicas.map((replica) => replica.state));
    const why = changed.status.lastError?.message ?? `replica ${changed.replica} is ${changed.state}`;
    for (const step of pathTo(model.state, target)) enter(model, step, `replica ${changed.replica}: ${why}`);
  };
  const unsubscribes = replicas.map((replica) => replica.onChange(sync));
  return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
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
