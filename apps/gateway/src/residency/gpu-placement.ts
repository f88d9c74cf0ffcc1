/** A model holding part of a GPU's memory, as the placement sees it. */
export interface HeldBudget {
  id: string;
  budgetGb: number;
  /** May be unloaded now: loaded on demand, no request in flight or queued, past its minimum residency. */
  evictable: boolean;
  /** Epoch ms of its last request (or of its load): the least recently used goes first. */
  lastUsedAt: number;
}

export type Placement = { fits: true; evict: string[] } | { fits: false; shortGb: number };

/** Budgets are decimals such as 6.8: a tolerance so that 6.8 + 5.2 fits 12 (as the config's own rule has it). */
const EPSILON_GB = 1e-9;

/**
 * Whether a model of `budgetGb` fits a GPU of `memoryGb` beside the budgets `held` there, and which models must be
 * unloaded first if not: the evictable ones, least recently used first, only as many as needed. When even unloading
 * every evictable one would not make room, nothing is evicted and `shortGb` says how much is missing.
 */
export function placeOnGpu(memoryGb: number, held: readonly HeldBudget[], budgetGb: number): Placement {
  let usedGb = held.reduce((sum, model) => sum + model.budgetGb, 0);
  const evict: string[] = [];
  const candidates = held.filter((model) => model.evictable).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  for (const candidate of candidates) {
    if (usedGb + budgetGb <= memoryGb + EPSILON_GB) break;
    evict.push(candidate.id);
    usedGb -= candidate.budgetGb;
  }
  if (usedGb + budgetGb <= memoryGb + EPSILON_GB) return { fits: true, evict };
  return { fits: false, shortGb: usedGb + budgetGb - memoryGb };
}
