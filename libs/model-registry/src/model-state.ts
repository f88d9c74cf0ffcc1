/**
 * The life of one model's backend. The usual path:
 *
 *   starting -> loading -> ready <-> unhealthy -> stopped -> starting (restart)
 *
 * and, for a model whose file is missing or refused: starting|loading -> failed -> starting (the file retried)
 *
 * and every move allowed, by target state (ALLOWED_FROM below is this table):
 *
 *   to         from
 *   starting   stopped; unhealthy (a crashed process restarted without a clean stop); failed (the file retried)
 *   loading    starting; unhealthy (a restarted TGI reloading its model); stopped (a backend found loading again)
 *   ready      loading; unhealthy (recovered); starting (a backend already up at the first probe)
 *   unhealthy  ready; loading; starting (a process that died before it could bind its port)
 *   failed     starting (the file refused before any process); loading (the engine could not load it)
 *   stopped    any state
 *
 * Asking for the state a model is already in changes nothing (health probes repeat themselves); any other move
 * throws, e.g. stopped -> ready without a start in between.
 */
export type ModelState = 'starting' | 'loading' | 'ready' | 'unhealthy' | 'failed' | 'stopped';

/** What GET /models shows for a model, minus the live counters (in-flight, queued) that dispatch owns. */
export interface ModelStatus {
  state: ModelState;
  /** When the model entered its current state. */
  since: Date;
  /** Start (construction or last markStarting) to ready, of the most recent completed cold start. */
  coldStartMs: number | null;
  readySince: Date | null;
  lastError: { message: string; at: Date } | null;
  restarts: number;
  /** Base URL of the backend once known: a TGI url at once, a local engine once it has bound its port. */
  address: string | null;
}

const ALLOWED_FROM: Record<ModelState, readonly ModelState[]> = {
  starting: ['stopped', 'unhealthy', 'failed'],
  loading: ['starting', 'unhealthy', 'stopped'],
  ready: ['loading', 'unhealthy', 'starting'],
  unhealthy: ['ready', 'loading', 'starting'],
  failed: ['starting', 'loading'],
  stopped: ['starting', 'loading', 'ready', 'unhealthy', 'failed'],
};

export function isAllowedTransition(from: ModelState, to: ModelState): boolean {
  return ALLOWED_FROM[to].includes(from);
}

export class IllegalModelTransitionError extends Error {
  override readonly name = 'IllegalModelTransitionError';

  constructor(
    readonly modelId: string,
    readonly from: ModelState,
    readonly to: ModelState,
  ) {
    const allowed = ALLOWED_FROM[to].join(', ');
    super(`model ${modelId}: cannot go from ${from} to ${to} (only from ${allowed})`);
  }
}
