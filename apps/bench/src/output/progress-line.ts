import type { ProgressSnapshot } from '../load/run-counters.js';
import { percentile } from '../metrics/percentile.js';
import { fmtMs } from './table.js';

/**
 * Live progress on stderr (stdout keeps the summary): on a terminal one line rewritten every second; otherwise
 * (CI, a pipe) a line every `everyS` seconds.
 */
export function progressPrinter(prefix = '', everyS = 10): { print: (s: ProgressSnapshot) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let lastPrinted = -Infinity;
  let wrote = false;
  return {
    print(s) {
      const e2e = s.intervalE2eMs;
      const line =
        `${prefix}[${s.elapsedS.toFixed(0).padStart(4)}/${s.totalS.toFixed(0)} s] ${s.target} | sent ${s.sent} in-flight ${s.inFlight} | ` +
        `ok ${s.ok} failed ${s.failed}${s.dropped ? ` (dropped ${s.dropped})` : ''} | last 1 s: ${s.intervalQps.toFixed(1)} ok/s, e2e p50 ${fmtMs(percentile(e2e, 50))} ` +
        `p99 ${fmtMs(percentile(e2e, 99))} ms | loop p99 ${s.loopDelayP99Ms.toFixed(1)} ms`;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 200) - 1)}`);
        wrote = true;
      } else if (s.elapsedS - lastPrinted >= everyS) {
        lastPrinted = s.elapsedS;
        process.stderr.write(`${line}\n`);
      }
    },
    end() {
      if (tty && wrote) process.stderr.write('\r\x1b[2K');
    },
  };
}
