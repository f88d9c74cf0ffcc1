import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isServerProcessMessage } from '#backends';
import { request } from './http-client.js';
import { ManagedProcess } from './processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SHIPPED_MODELS = {
  llama3: `${REPO_ROOT}models/llama3-tiny-q8_0.gguf`,
  qwen2: `${REPO_ROOT}models/qwen2-tiny-q8_0.gguf`,
} as const;

export interface RunningEngine {
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Starts the built engine on a free port and returns once it listens (not necessarily ready). Like the gateway, the
 * test is the engine's parent over an IPC channel: the engine reports its address there and ends with the test.
 */
export async function startEngine(
  model: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningEngine> {
  const process = ManagedProcess.start(
    globalThis.process.execPath,
    [`${REPO_ROOT}dist/apps/engine/src/main.js`, '--model', model, '--port', '0', ...args],
    env,
    { ipc: true },
  );
  try {
    const { url } = await process.waitForMessage((m) => isServerProcessMessage(m, 'listening'));
    return { url, process, stop: () => process.stop() };
  } catch (error) {
    await process.stop();
    throw error;
  }
}

/** Polls /health until 200 (ready) or the deadline. */
export async function waitUntilReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = await request(`${url}/health`).catch(() => undefined);
    if (health?.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`engine at ${url} not ready after ${timeoutMs} ms (last: ${health?.status} ${health?.text})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startReadyEngine(model: string, args: string[] = []): Promise<RunningEngine> {
  const engine = await startEngine(model, args);
  try {
    await waitUntilReady(engine.url);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}

/**
 * A random-weight model big enough that generation takes a while (for overload and abort tests), written once
 * per build into the git-ignored models/generated/ by the project's own model tool.
 */
export function slowTestModel(): string {
  const out = `${REPO_ROOT}models/generated/test-llama-slow-q8_0.gguf`;
  if (!existsSync(out)) {
    mkdirSync(`${REPO_ROOT}models/generated`, { recursive: true });
    const result = spawnSync(
      globalThis.process.execPath,
      [
        `${REPO_ROOT}dist/apps/model-tools/src/make-random-model.js`,
        '--arch',
        'llama',
        '--params',
        '30M',
        '--type',
        'Q8_0',
        '--seed',
        '7',
        '--out',
        out,
      ],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`make-random-model failed: ${result.stderr}${result.stdout}`);
  }
  return out;
}

/** Waits until the engine reports no running and no waiting generation (its Prometheus gauges). */
export async function waitUntilIdle(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metrics = (await request(`${url}/metrics`)).text;
    const gauge = (name: string) => Number(metrics.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? NaN);
    if (gauge('tgi_batch_current_size') === 0 && gauge('tgi_queue_size') === 0) return;
    if (Date.now() > deadline) throw new Error(`engine at ${url} still busy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
