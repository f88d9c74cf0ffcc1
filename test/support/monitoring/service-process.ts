import { existsSync, rmSync } from 'node:fs';
import { ManagedProcess } from '../processes.js';

/**
 * A monitoring daemon under test: a ManagedProcess that is also SIGKILLed if the test process exits without
 * stopping it, so that a crashed spec leaves no carbon-cache or prometheus behind holding ports.
 */
export function startService(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  installHint = '',
): ManagedProcess {
  // A missing binary would otherwise surface as an unhandled spawn ENOENT rejection.
  if (!existsSync(command)) throw new Error(`${command} not found${installHint ? ` (${installHint})` : ''}`);
  const service = ManagedProcess.start(command, args, env);
  const killOnExit = () => service.child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const forget = () => process.off('exit', killOnExit);
  void service.exited.then(forget, forget);
  return service;
}

/**
 * Runs `attempt` (which picks free ports and starts a server on them) again when it fails, a few times: the ports
 * we probed may have been taken by someone else before our server bound them.
 */
export async function retryOnPortClash<T>(what: string, attempt: () => Promise<T>, attempts = 3): Promise<T> {
  const errors: string[] = [];
  for (let i = 1; i <= attempts; i++) {
    try {
      return await attempt();
    } catch (error) {
      errors.push(`attempt ${i}: ${(error as Error).message}`);
    }
  }
  throw new Error(`could not start ${what}:\n${errors.join('\n')}`);
}

/** Removes a temp dir we made; never throws (a test's cleanup must not hide its real failure). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `check` until it returns a value other than undefined, or throws with `describe()` after the deadline. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    const value = await check().catch((error: Error) => {
      lastError = ` (last error: ${error.message})`;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms: ${options.describe()}${lastError}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
