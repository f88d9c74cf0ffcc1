/**
 * Loaded with `--import` into each server `bench overhead` starts (the gateway, the plain proxy, the mock backend):
 * the process answers its parent's IPC question with its own `process.cpuUsage()` and its event-loop delay
 * histogram since the last question. Measured inside the server, so the load generator's CPU counts for no leg; it
 * costs the server nothing between questions but the histogram's sampling timer (every LOOP_RESOLUTION_MS), the
 * same for every process compared.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { USAGE_QUESTION, type ProcessUsage } from './process-usage.js';

const LOOP_RESOLUTION_MS = 5;

if (process.send !== undefined && process.channel !== undefined) {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const ms = (ns: number) => ns / 1e6;
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
    };
    loop.reset();
    process.send!(answer);
  });
  // The channel must not keep a server alive that would otherwise exit.
  process.channel.unref();
}
