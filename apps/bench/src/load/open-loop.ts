import type { ArrivalSink, Clock } from './arrival-sink.js';

export interface OpenLoopPlan {
  /** Intended send times, ms from `startMs`, ascending (arrival-schedule.ts). */
  arrivals: Float64Array;
  /** Load start on the run clock. */
  startMs: number;
  /** When the load ends, ms from `startMs`: arrivals still waiting for a connection then are dropped. */
  stopAfterMs: number;
  /** Requests in flight at most; an arrival beyond waits in the client's queue (and is late). */
  maxInFlight: number;
  /** Arrivals that may wait for a free slot; one more is dropped at once. */
  maxPending: number;
}

export interface OpenLoopOutcome {
  /** Timer lag (actual − intended) of every arrival sent as soon as it was due: the client's own lateness. A
   *  queued arrival's wait is the server's doing (its slots were busy) and is not in here. */
  timerLagMs: number[];
  /** Arrivals that had to wait for a slot (sent late or dropped). */
  queued: number;
  dropped: number;
  /** When the load stopped (run clock). */
  stoppedAtMs: number;
  interrupted: boolean;
}

/**
 * Open loop: arrivals go out at their scheduled times whatever the server does, so a slow server gets more
 * concurrent requests, not fewer (the opposite of a closed loop, which waits and so hides the slowness: coordinated
 * omission). The only brake is the client's own cap (`maxInFlight`), and an arrival held back by it keeps its
 * intended time — its latency includes the wait — or, if the queue is full or the load ends first, is dropped and
 * counted. Nothing is skipped silently.
 */
export function runOpenLoop(
  plan: OpenLoopPlan,
  sink: ArrivalSink,
  clock: Clock,
  signal?: AbortSignal,
): Promise<OpenLoopOutcome> {
  const { arrivals, startMs } = plan;
  const outcome: OpenLoopOutcome = {
    timerLagMs: [],
    queued: 0,
    dropped: 0,
    stoppedAtMs: startMs + plan.stopAfterMs,
    interrupted: false,
  };
  const waiting: number[] = [];
  let waitingHead = 0;
  let next = 0;
  let inFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  return new Promise<OpenLoopOutcome>((resolve) => {
    const finishIfDone = () => {
      if (stopped && inFlight === 0) {
        signal?.removeEventListener('abort', interrupt);
        resolve(outcome);
      }
    };
    /** A late start (out of the client's queue) is not a timer's lag, so it is not recorded as one. */
    const start = (id: number, { late = false } = {}) => {
      const intended = startMs + arrivals[id]!;
      if (!late) outcome.timerLagMs.push(clock() - intended);
      inFlight++;
      void sink.issue(id, intended).finally(() => {
        inFlight--;
        while (!stopped && inFlight < plan.maxInFlight && waitingHead < waiting.length)
          start(waiting[waitingHead++]!, { late: true });
        finishIfDone();
      });
    };
    const drop = (id: number, why: string) => {
      outcome.dropped++;
      sink.drop(id, startMs + arrivals[id]!, why);
    };
    const arrive = (id: number) => {
      if (inFlight < plan.maxInFlight && waitingHead === waiting.length) return start(id);
      outcome.queued++;
      if (waiting.length - waitingHead >= plan.maxPending) {
        outcome.queued--;
        return drop(
          id,
          `client queue full: ${plan.maxInFlight} in flight and ${plan.maxPending} waiting (--max-in-flight, --max-pending)`,
        );
      }
      waiting.push(id);
    };
    const tick = () => {
      const now = clock();
      while (next < arrivals.length && startMs + arrivals[next]! <= now) arrive(next++);
      if (next < arrivals.length) timer = setTimeout(tick, Math.max(0, startMs + arrivals[next]! - clock()));
    };
    const stop = (why: string) => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      clearTimeout(stopTimer);
      while (waitingHead < waiting.length) drop(waiting[waitingHead++]!, why);
      finishIfDone();
    };
    const interrupt = () => {
      outcome.interrupted = true;
      outcome.stoppedAtMs = clock();
      stop('interrupted before a connection was free');
    };
    // Every arrival is before the end, so at the end whatever the timers have not reached yet is due: send it.
    const stopTimer = setTimeout(
      () => {
        while (next < arrivals.length) arrive(next++);
        stop('the load ended before a connection was free');
      },
      Math.max(0, startMs + plan.stopAfterMs - clock()),
    );
    signal?.addEventListener('abort', interrupt, { once: true });
    tick();
  });
}
