/**
 * Passive outlier detection as Envoy does it (outlier_detection.proto): a replica whose calls fail `failures` times
 * in a row is ejected — sent no traffic — for `ejectionMs` times the number of its ejections so far, capped at
 * `maxEjectionMs`; a health probe that answers ready once that time is up brings it back. Never more than half of a
 * model's replicas (and never all of them) are ejected at once: a model of one is never ejected, and a fault shared
 * by every replica is the readiness checks' to report, not this detector's.
 */
export interface OutlierPolicy {
  /** Failed calls in a row that eject a replica; 0 turns ejection off. */
  failures: number;
  ejectionMs: number;
  maxEjectionMs: number;
}

/** One replica's record; the detector reads and writes it. */
export class OutlierRecord {
  failuresInARow = 0;
  ejections = 0;
  /** Epoch ms until which the replica stays out; null while it takes traffic. */
  ejectedUntil: number | null = null;

  get ejected(): boolean {
    return this.ejectedUntil !== null;
  }
}

export class OutlierDetector {
  constructor(
    private readonly policy: OutlierPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  success(record: OutlierRecord): void {
    record.failuresInARow = 0;
  }

  /** Counts a failed call; true when it ejected the replica. `peers` are all of the model's replicas, it included. */
  failure(record: OutlierRecord, peers: readonly OutlierRecord[]): boolean {
    record.failuresInARow += 1;
    if (this.policy.failures === 0 || record.ejected || record.failuresInARow < this.policy.failures) return false;
    const ejectedNow = peers.filter((peer) => peer.ejected).length;
    if (ejectedNow + 1 > mostEjected(peers.length)) return false;
    record.ejections += 1;
    record.failuresInARow = 0;
    const forMs = Math.min(this.policy.ejectionMs * record.ejections, this.policy.maxEjectionMs);
    record.ejectedUntil = this.now() + forMs;
    return true;
  }

  /** A health probe's answer; true when it brought an ejected replica back (its time up, and it answered ready). */
  probe(record: OutlierRecord, ready: boolean): boolean {
    if (record.ejectedUntil === null || !ready || this.now() < record.ejectedUntil) return false;
    record.ejectedUntil = null;
    record.failuresInARow = 0;
    return true;
  }
}

/** Half of the replicas, rounded down, at least one of two or more, never all. */
export function mostEjected(replicas: number): number {
  if (replicas < 2) return 0;
  return Math.min(replicas - 1, Math.max(1, Math.floor(replicas / 2)));
}
