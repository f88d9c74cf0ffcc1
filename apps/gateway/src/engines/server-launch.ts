import { createServer } from 'node:net';
import type { LocalBackendConfig, ModelDescriptor, ProcessBackendConfig, StopSignal } from '#model-registry';

const ENGINE_MAIN = new URL('../../../engine/src/main.js', import.meta.url);
const PROCESS_GUARD = new URL('./process-guard.js', import.meta.url);
/** How long the process guard waits after the stop signal before SIGKILL, when the gateway has gone. */
const GUARD_GRACE_MS = 10_000;

/** How one start of a supervised server runs: the program, its words, and how the gateway learns that it serves. */
export interface ServerLaunch {
  program: string;
  args: string[];
  /**
   * `ipc`: the server reports its address and its load over an IPC channel (the engine); `health`: it listens at
   * `url` and serves once `url + healthPath` answers 200 (any other server).
   */
  readiness: { kind: 'ipc' } | { kind: 'health'; url: string; healthPath: string };
  stopSignal: StopSignal;
  /**
   * Started through the process guard (process-guard.ts) in a process group of its own: a stop reaches what it
   * started too (a shell, `docker run`'s helpers), and the group is stopped if the gateway dies without stopping it.
   */
  guarded: boolean;
}

/** What a supervised backend needs at each start: its model file (checked first) and its launch. */
export interface LaunchPlan {
  /** null: no file to check (a command that fetches or names its model itself). */
  modelPath: string | null;
  launch(): Promise<ServerLaunch>;
}

/** The local engine: `type: local`'s short form of the engine's command line. */
export function engineLaunchPlan(descriptor: ModelDescriptor, backend: LocalBackendConfig): LaunchPlan {
  const { engine } = backend;
  const args = [
    ENGINE_MAIN.pathname,
    '--model',
    backend.modelPath,
    '--model-id',
    descriptor.id,
    '--host',
    backend.host,
    '--port',
    String(backend.port ?? 0),
    '--contexts',
    String(engine.contexts),
    '--sequences',
    String(engine.sequences),
    '--threads',
    String(engine.threads),
    '--gpu-layers',
    String(engine.gpuLayers),
    '--max-concurrent-requests',
    String(engine.maxConcurrentRequests),
    ...(engine.contextSize === null ? [] : ['--context-size', String(engine.contextSize)]),
  ];
  return {
    modelPath: backend.modelPath,
    launch: () =>
      Promise.resolve({
        program: process.execPath,
        args,
        readiness: { kind: 'ipc' },
        stopSignal: 'SIGTERM',
        guarded: false,
      }),
  };
}

/** `type: process`: its command with `${PORT}`, `${MODEL_PATH}` and `${GPU}` filled in, a free port picked if unset. */
export function commandLaunchPlan(descriptor: ModelDescriptor, backend: ProcessBackendConfig): LaunchPlan {
  return {
    modelPath: backend.modelPath,
    launch: async () => {
      const port = backend.port ?? (await freePort(backend.host));
      const words = fillPlaceholders(backend.command, {
        PORT: String(port),
        MODEL_PATH: backend.modelPath ?? '',
        GPU: descriptor.gpu ?? '',
      });
      const host = backend.host.includes(':') ? `[${backend.host}]` : backend.host;
      return {
        program: process.execPath,
        args: [PROCESS_GUARD.pathname, backend.stopSignal, String(GUARD_GRACE_MS), ...words],
        readiness: { kind: 'health', url: `http://${host}:${port}`, healthPath: backend.health },
        stopSignal: backend.stopSignal,
        guarded: true,
      };
    },
  };
}

/** Each `${NAME}` of `values` replaced in every word; other `${...}` are left as written. */
export function fillPlaceholders(words: readonly string[], values: Record<string, string>): string[] {
  return words.map((word) => word.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole));
}

/** A port nobody listens on now, from the kernel (the server binds it a moment later). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
