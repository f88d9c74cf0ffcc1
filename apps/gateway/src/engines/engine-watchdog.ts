import type { ProbeResult } from '#backends';
import type { ModelEntry } from '#model-registry';

/**
 * Counts each model's failed /health probes in a row once it has served (ready, or unhealthy since), and calls
 * `replace` when they reach `limit`: an engine that hangs without exiting would otherwise stay unhealthy for ever.
 * A model still loading is bounded by its startup_ms instead. A limit of 0 turns the watchdog off.
 */
export class EngineWatchdog {
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly replace: (entry: ModelEntry, misses: number) => void,
  ) {}

  record(entry: ModelEntry, probe: ProbeResult): void {
    const counts = probe !== 'ready' && (entry.state === 'ready' || entry.state === 'unhealthy');
    // Each replica of a model has its own engine: its own count.
    const key = `${entry.id}\u0000${entry.replica}`;
    if (this.limit === 0 || !counts) {
      this.misses.delete(key);
      return;
    }
    const misses = (this.misses.get(key) ?? 0) + 1;
    if (misses < this.limit) {
      this.misses.set(key, misses);
      return;
    }
    this.misses.delete(key);
    this.replace(entry, misses);
  }
}
