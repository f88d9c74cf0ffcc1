/**
 * Which queued request goes first. Priorities are whole numbers, lower first; within a priority callers take turns
 * (caller-turns.ts folds both into the one number the in-process line and BullMQ's prioritised set order by).
 */
export type PriorityOrder = 'fifo' | 'scenario' | 'shortest_first';

export interface PriorityPolicy {
  order: PriorityOrder;
  /** With `scenario`: each scenario's priority (lower first); a scenario not listed, or none, goes after all listed. */
  scenarioPriority: Readonly<Record<string, number>>;
}

export const FIFO_POLICY: PriorityPolicy = { order: 'fifo', scenarioPriority: {} };

/** BullMQ's largest priority (2^21 - 1); 0 means "none", which BullMQ serves first, in plain FIFO. */
export const MAX_PRIORITY = 2_097_151;

export interface PriorityInput {
  scenario?: string | undefined;
  /** The tokens the request will generate at most: a proxy for its backend time. */
  maxNewTokens: number;
}

/** The priority number of one request under a policy: 0 for everyone under FIFO, 1 or more otherwise. */
export function priorityOf(policy: PriorityPolicy, { scenario, maxNewTokens }: PriorityInput): number {
  switch (policy.order) {
    case 'fifo':
      return 0;
    case 'shortest_first':
      return clamp(maxNewTokens);
    case 'scenario': {
      const listed = scenario === undefined ? undefined : policy.scenarioPriority[scenario];
      if (listed !== undefined) return clamp(listed);
      return clamp(Math.max(0, ...Object.values(policy.scenarioPriority)) + 1);
    }
  }
}

/**
 * The largest priority number a policy gives a model's requests (DispatchLimits.highestPriority): the rest of BullMQ's
 * range is left to callers' fair turns (caller-turns.ts), so FIFO leaves them the most.
 */
export function highestPriorityOf(policy: PriorityPolicy, modelMaxNewTokens: number): number {
  switch (policy.order) {
    case 'fifo':
      return 0;
    case 'shortest_first':
      return clamp(modelMaxNewTokens);
    case 'scenario':
      return priorityOf(policy, { maxNewTokens: modelMaxNewTokens });
  }
}

function clamp(priority: number): number {
  return Math.min(MAX_PRIORITY, Math.max(1, Math.round(priority)));
}
