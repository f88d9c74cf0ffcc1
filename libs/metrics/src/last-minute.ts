import { REQUEST_OUTCOMES, type RequestOutcome, type RequestRecord } from './request-record.js';

/** The window the console's figures cover, in one-second slots. */
export const LAST_MINUTE_S = 60;

/**
 * Latency bins grow by 4 % from 10 µs to 10 min: a percentile read from them is within 2 % of the true sample, and a
 * slot costs a fixed array whatever the traffic, so recording allocates nothing.
 */
const SMALLEST_MS = 0.01;
const GROWTH = 1.04;
const LOG_GROWTH = Math.log(GROWTH);
const BINS = Math.ceil(Math.log(600_000 / SMALLEST_MS) / LOG_GROWTH) + 1;

const OUTCOME_COUNT = REQUEST_OUTCOMES.length;
const OUTCOME_INDEX = Object.fromEntries(REQUEST_OUTCOMES.map((outcome, index) => [outcome, index])) as Record<
  RequestOutcome,
  number
>;
const OK = OUTCOME_INDEX.ok;

function binOf(ms: number): number {
  if (!(ms > SMALLEST_MS)) return 0;
  return Math.min(BINS - 1, Math.floor(Math.log(ms / SMALLEST_MS) / LOG_GROWTH));
}

/** The geometric middle of a bin: what a percentile falling in it reads as. */
function valueOfBin(bin: number): number {
  return SMALLEST_MS * GROWTH ** (bin + 0.5);
}

/** Percentiles of the last minute, ms; null without a sample. */
export interface LatencyPercentiles {
  count: number;
  p50: number | null;
  p99: number | null;
}

/** What one model (or the whole gateway) did over the last minute. */
export interface LastMinuteFigures {
  /** Answers finished in the window, whatever their outcome. */
  requests: number;
  /** `requests` over the window, or over the time since the window's first answer when that is shorter. */
  requestsPerS: number;
  /** Per second, oldest first: the answers finished in each of the last LAST_MINUTE_S seconds. */
  perSecond: number[];
  /** Answers that were not `ok`, by outcome (the error taxonomy's types, and `cancelled`); only those seen. */
  errors: Partial<Record<RequestOutcome, number>>;
  /** Successful answers only, as load tools count them. */
  latencyMs: LatencyPercentiles;
  /** From dispatch to the backend's first token, successful answers that reported it. */
  timeToFirstTokenMs: LatencyPercentiles;
}

/** One model's ring of per-second slots: the slot for second s is s % LAST_MINUTE_S, reset when a new second reuses it. */
class SecondRing {
  readonly seconds = new Float64Array(LAST_MINUTE_S).fill(-1);
  /** When each slot's first answer finished (epoch ms): a rate over a window that began mid-second stays true. */
  readonly firstAt = new Float64Array(LAST_MINUTE_S);
  readonly outcomes = new Uint32Array(LAST_MINUTE_S * OUTCOME_COUNT);
  readonly latency = new Uint32Array(LAST_MINUTE_S * BINS);
  readonly firstToken = new Uint32Array(LAST_MINUTE_S * BINS);

  slotFor(second: number, now: number): number {
    const slot = second % LAST_MINUTE_S;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.firstAt[slot] = now;
      this.outcomes.fill(0, slot * OUTCOME_COUNT, (slot + 1) * OUTCOME_COUNT);
      this.latency.fill(0, slot * BINS, (slot + 1) * BINS);
      this.firstToken.fill(0, slot * BINS, (slot + 1) * BINS);
    }
    return slot;
  }
}

/**
 * The last minute of finished requests per model, for the console: request rate, errors by type, p50/p99 latency and
 * time to first token. record() is on every request's path, so it only bumps counters in preallocated arrays; the
 * percentiles are worked out when someone reads them (once a second per open console).
 */
export class LastMinute {
  private readonly rings = new Map<string, SecondRing>();

  /** `now`: its clock (epoch ms), which a later record()'s `finishedAt` must come from too. */
  constructor(readonly now: () => number = Date.now) {}

  /** `finishedAt`: when the request finished (epoch ms), if it is recorded later. */
  record(record: RequestRecord, finishedAt?: number): void {
    const now = finishedAt ?? this.now();
    const key = record.modelId ?? '';
    let ring = this.rings.get(key);
    if (!ring) this.rings.set(key, (ring = new SecondRing()));
    const slot = ring.slotFor(Math.floor(now / 1000), now);
    const outcome = OUTCOME_INDEX[record.outcome];
    ring.outcomes[slot * OUTCOME_COUNT + outcome]! += 1;
    if (outcome !== OK) return;
    ring.latency[slot * BINS + binOf(record.latencyMs)]! += 1;
    if (record.timeToFirstTokenMs !== undefined) ring.firstToken[slot * BINS + binOf(record.timeToFirstTokenMs)]! += 1;
  }

  /** One model's figures (by canonical id); null: the requests that named no model the gateway serves. */
  of(modelId: string | null): LastMinuteFigures {
    const ring = this.rings.get(modelId ?? '');
    return figuresOf(ring ? [ring] : [], this.now());
  }

  /** Every request the gateway followed, those that named no model it serves included. */
  total(): LastMinuteFigures {
    return figuresOf([...this.rings.values()], this.now());
  }
}

function figuresOf(rings: SecondRing[], now: number): LastMinuteFigures {
  const second = Math.floor(now / 1000);
  const oldest = second - LAST_MINUTE_S + 1;
  const perSecond = new Array<number>(LAST_MINUTE_S).fill(0);
  const outcomes = new Array<number>(OUTCOME_COUNT).fill(0);
  const latency = new Float64Array(BINS);
  const firstToken = new Float64Array(BINS);
  let firstAnswerAt = Infinity;
  for (const ring of rings) {
    for (let slot = 0; slot < LAST_MINUTE_S; slot++) {
      const held = ring.seconds[slot]!;
      if (held < oldest || held > second) continue;
      let answers = 0;
      for (let o = 0; o < OUTCOME_COUNT; o++) {
        const n = ring.outcomes[slot * OUTCOME_COUNT + o]!;
        outcomes[o]! += n;
        answers += n;
      }
      if (answers === 0) continue;
      perSecond[held - oldest]! += answers;
      firstAnswerAt = Math.min(firstAnswerAt, ring.firstAt[slot]!);
      for (let bin = 0; bin < BINS; bin++) {
        latency[bin]! += ring.latency[slot * BINS + bin]!;
        firstToken[bin]! += ring.firstToken[slot * BINS + bin]!;
      }
    }
  }
  const requests = outcomes.reduce((sum, n) => sum + n, 0);
  // Over the whole minute once traffic has lasted that long; before, over the time since the first answer (at least
  // a second, so that one answer does not read as a burst).
  const spanMs = Math.max(1000, now - Math.max(oldest * 1000, firstAnswerAt));
  const errors: Partial<Record<RequestOutcome, number>> = {};
  REQUEST_OUTCOMES.forEach((outcome, index) => {
    if (index !== OK && outcomes[index]! > 0) errors[outcome] = outcomes[index];
  });
  return {
    requests,
    requestsPerS: requests === 0 ? 0 : requests / (spanMs / 1000),
    perSecond,
    errors,
    latencyMs: percentilesOf(latency),
    timeToFirstTokenMs: percentilesOf(firstToken),
  };
}

/** Nearest rank, as the bench reports them: the ⌈p/100 · n⌉-th smallest sample, read as the middle of its bin. */
function percentilesOf(bins: Float64Array): LatencyPercentiles {
  const count = bins.reduce((sum, n) => sum + n, 0);
  const at = (p: number): number | null => {
    if (count === 0) return null;
    const rank = Math.ceil((p / 100) * count);
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += bins[bin]!;
      if (seen >= rank) return valueOfBin(bin);
    }
    return valueOfBin(BINS - 1);
  };
  return { count, p50: at(50), p99: at(99) };
}
