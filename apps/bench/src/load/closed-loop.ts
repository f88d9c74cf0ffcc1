import type { ArrivalSink, Clock } from './arrival-sink.js';
import type { LoadProfile } from './profile.js';
import { Rng } from './rng.js';

export interface ClosedLoopPlan {
  /** How many users (or concurrent request slots) are active at each time (ms from `startMs`). */
  profile: LoadProfile;
  startMs: number;
  stopAfterMs: number;
  /** Think time between a user's requests, uniform in [min, max] seconds (Locust's `between`); null: none. */
  thinkTimeS: [number, number] | null;
  /** Stop sending after this many requests in all. */
  maxRequests: number;
  seed: number;
}

export interface ClosedLoopOutcome {
  stoppedAtMs: number;
  interrupted: boolean;
  /** The most users active at once. */
  peakUsers: number;
}

/**
 * Closed loop: each user sends a request, waits for its answer, thinks, and sends the next (Locust's users; with
 * no think time, fixed concurrency). The number of users follows the profile (spawn rate or stages); a user above
 * the target finishes its current request and leaves. A request's intended time is when its user was ready to
 * send it, so closed-loop latencies do not include the time users spent waiting on earlier answers.
 */
export function runClosedLoop(
  plan: ClosedLoopPlan,
  sink: ArrivalSink,
  clock: Clock,
  signal?: AbortSignal,
): Promise<ClosedLoopOutcome> {
  const outcome: ClosedLoopOutcome = { stoppedAtMs: plan.startMs + plan.stopAfterMs, interrupted: false, peakUsers: 0 };
  let target = 0;
  let active = 0;
  let issued = 0;
  let stopped = false;
  const sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  return new Promise<ClosedLoopOutcome>((resolve) => {
    const sleep = (ms: number) =>
      new Promise<void>((wake) => {
        const sleeper = { timer: setTimeout(() => (sleepers.delete(sleeper), wake()), ms), wake };
        sleepers.add(sleeper);
      });
    const finishIfDone = () => {
      if (stopped && active === 0) {
        signal?.removeEventListener('abort', interrupt);
        resolve(outcome);
      }
    };
    const user = async (index: number) => {
      const rng = new Rng(plan.seed, 100 + index);
      while (!stopped && index < target && issued < plan.maxRequests) {
        const id = issued++;
        await sink.issue(id, clock());
        if (issued >= plan.maxRequests) stop();
        if (plan.thinkTimeS && !stopped) await sleep(rng.uniform(plan.thinkTimeS[0], plan.thinkTimeS[1]) * 1000);
      }
      active--;
      finishIfDone();
    };
    const adjust = () => {
      if (stopped) return;
      const t = clock() - plan.startMs;
      if (t >= plan.stopAfterMs) return stop();
      target = Math.floor(plan.profile.at(t) + 1e-9);
      // Users are numbered: the lowest `target` of them run. Start the missing ones.
      while (active < target) {
        outcome.peakUsers = Math.max(outcome.peakUsers, active + 1);
        void user(active++);
      }
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      outcome.stoppedAtMs = Math.min(outcome.stoppedAtMs, clock());
      clearInterval(controller);
      clearTimeout(stopTimer);
      for (const s of sleepers) {
        clearTimeout(s.timer);
        s.wake();
      }
      sleepers.clear();
      finishIfDone();
    };
    const interrupt = () => {
      outcome.interrupted = true;
      outcome.stoppedAtMs = clock();
      stop();
    };
    const controller = setInterval(adjust, 20);
    const stopTimer = setTimeout(stop, Math.max(0, plan.startMs + plan.stopAfterMs - clock()));
    signal?.addEventListener('abort', interrupt, { once: true });
    adjust();
  });
}
