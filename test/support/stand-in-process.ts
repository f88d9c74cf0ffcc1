import { isServerProcessMessage } from '#backends';
import type { StandInScript, TgiStandInOptions } from '#backends/testing';
import { REPO_ROOT } from './engine.js';
import { ManagedProcess } from './processes.js';

/** A TGI stand-in in a child process (benchmarks); the script must be data, not a function. */
export async function startStandInProcess(options: Omit<TgiStandInOptions, 'script'> & { script?: StandInScript }) {
  const standIn = ManagedProcess.start(
    process.execPath,
    [`${REPO_ROOT}dist/test/support/stand-in-main.js`, JSON.stringify(options)],
    {},
    { ipc: true },
  );
  const { url } = await standIn.waitForMessage((m) => isServerProcessMessage(m, 'listening'));
  return { url, stop: () => standIn.stop() };
}
