import type { ModelRegistry } from '#model-registry';
import type { StateChangeDto } from './console-state.dto.js';

/** Enough to see a crash loop at a glance; older changes drop off. */
const KEPT_PER_MODEL = 12;

/**
 * The latest state changes of every model, with the reason for each change to unhealthy or failed: a console polled
 * once a second can miss a state that lasts less than that, and an admin arriving after an incident wants to see it.
 */
export class StateChanges {
  private readonly changes = new Map<string, StateChangeDto[]>();

  constructor(registry: ModelRegistry) {
    for (const entry of registry.list()) {
      const kept: StateChangeDto[] = [];
      this.changes.set(entry.id, kept);
      entry.onChange((changed, previous) => {
        const { state, since, lastError } = changed.status;
        const failing = state === 'unhealthy' || state === 'failed';
        kept.push({
          from: previous,
          to: state,
          at: since.toISOString(),
          reason: failing ? (lastError?.message ?? null) : null,
        });
        if (kept.length > KEPT_PER_MODEL) kept.shift();
      });
    }
  }

  of(modelId: string): StateChangeDto[] {
    return [...(this.changes.get(modelId) ?? [])];
  }
}
