import { spawn } from 'node:child_process';
import type { StandInScript, TgiStandInOptions } from '#backends/testing';
import { REPO_ROOT } from './engine.js';
import { ManagedProcess } from './processes.js';

/** A TGI stand-in in a child process (benchmarks); the script must be data, not a function. */
export async function startStandInProcess(options: Omit<TgiStandInOptions, 'script'> & { script?: StandInScript }) {
  const child = spawn(process.execPath, [`${REPO_ROOT}dist/test/support/stand-in-main.js`, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const process_ = new ManagedProcess(child);
  const [, url] = await process_.waitForLine(/stand-in on (http:\/\/\S+)/);
  return { url: url!, stop: () => process_.stop() };
}
