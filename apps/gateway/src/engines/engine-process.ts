import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isServerProcessMessage } from '#backends';
import type { BackendConfig, ModelEntry } from '#model-registry';

type LocalBackend = Extract<BackendConfig, { type: 'local' }>;

const ENGINE_MAIN = new URL('../../../engine/src/main.js', import.meta.url);
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** A run this long counts as healthy: the next crash starts the backoff from the beginning again. */
const STABLE_RUN_MS = 60_000;
const STOP_GRACE_MS = 10_000;

export interface EngineProcessEvents {
  /** The engine bound its port: its base URL. */
  onListening(url: string): void;
  /** The engine says it loaded its model (its /health has the last word). */
  onReady(): void;
}

/**
 * One local engine process for one model: started, watched, restarted with exponential backoff when it dies,
 * stopped on shutdown. It reports its address and its load's outcome over an IPC channel (ServerProcessMessage);
 * its output lines go to the gateway's output, prefixed with the model id, and are never parsed.
 */
export class EngineProcess {
  private child?: ChildProcess;
  private stopping = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;

  constructor(
    private readonly entry: ModelEntry,
    private readonly backend: LocalBackend,
    private readonly events: EngineProcessEvents,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const { engine } = this.backend;
    const args = [
      ENGINE_MAIN.pathname,
      '--model',
      this.backend.modelPath,
      '--model-id',
      this.entry.descriptor.id,
      '--host',
      this.backend.host,
      '--port',
      String(this.backend.port ?? 0),
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
    this.entry.markStarting();
    this.startedAt = Date.now();
    // The IPC channel carries the engine's messages; its closing, when this process exits however it exits, also
    // stops the engine (apps/engine/src/parent-channel.ts).
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    const id = this.entry.descriptor.id;
    relayLines(child.stdout!, process.stdout, id);
    relayLines(child.stderr!, process.stderr, id);
    child.on('message', (message) => this.onMessage(child, message));
    child.on('error', (error) => this.entry.recordError(`engine process error: ${error.message}`));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onMessage(child: ChildProcess, message: unknown): void {
    if (child !== this.child || !isServerProcessMessage(message)) return;
    switch (message.type) {
      case 'listening':
        return this.events.onListening(message.url);
      case 'ready':
        return this.events.onReady();
      case 'failed':
        return this.entry.recordError(`engine could not load the model: ${message.reason}`);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.stopping) {
      this.entry.markStopped();
      return;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (Date.now() - this.startedAt > STABLE_RUN_MS) this.backoffMs = FIRST_BACKOFF_MS;
    this.entry.markUnhealthy(`engine process died (${how}); restarting in ${this.backoffMs} ms`);
    this.restartTimer = setTimeout(() => {
      this.entry.incrementRestarts();
      this.start();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  /** Resident memory of the engine process, from /proc (Linux); null where that cannot be read. */
  async rssBytes(): Promise<number | null> {
    if (!this.child?.pid) return null;
    try {
      const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]);
      return Number.isFinite(kb) ? kb * 1024 : null;
    } catch {
      return null;
    }
  }

  /** From now on an exit is expected: no restart. */
  beginShutdown(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
  }

  async stop(): Promise<void> {
    this.beginShutdown();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.entry.markStopped();
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }
}

/** Copies a child's output to ours line by line, each line prefixed with the model id. */
function relayLines(from: Readable, to: Writable, modelId: string): void {
  createInterface({ input: from }).on('line', (line) => to.write(`[${modelId}] ${line}\n`));
}
