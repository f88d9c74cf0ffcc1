/**
 * Loaded with `--import` into each server `bench overhead` starts (the gateway, the plain proxy, the mock backend):
 * the process answers its parent's IPC question with its own `process.cpuUsage()` and its event-loop delay
 * histogram since the last question. Measured inside the server, so the load generator's CPU counts for no leg; it
 * costs the server nothing between questions but the histogram's sampling timer (every LOOP_RESOLUTION_MS), the
 * same for every process compared.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { USAGE_QUESTION, type ProcessUsage } from './process-usage.js';

const LOOP_RESOLUTION_MS = 5;

if (process.send !== undefined && process.channel !== undefined) {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const ms = (ns: number) => ns / 1e6;
  // Garbage collections since the last question: how many, their pauses together, the longest.
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      if (entry.duration > gc.maxMs) gc.maxMs = entry.duration;
    }
  }).observe({ type: 'gc' });
  process.on('message', (message: unknown) => {
    if (message !== USAGE_QUESTION) return;
    const { user, system } = process.cpuUsage();
    const answer: ProcessUsage = {
      cpuUserUs: user,
      cpuSystemUs: system,
      loopDelayMs: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        max: ms(loop.max),
        mean: ms(loop.mean),
      },
      rssBytes: process.memoryUsage.rss(),
      gc: { ...gc },
    };
    loop.reset();
    gc.count = gc.totalMs = gc.maxMs = 0;
    process.send!(answer);
  });
  // The channel must not keep a server alive that would otherwise exit.
  process.channel.unref();
}
