import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { isServerProcessMessage, type ServerProcessMessage } from '#backends';
import type { ModelEntry, StopSignal } from '#model-registry';
import { pollHealth } from './health-poll.js';
import { fileVersion, modelFileProblem } from './model-file.js';
import type { LaunchPlan, ServerLaunch } from './server-launch.js';

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** A run this long counts as healthy: the next crash starts the backoff from the beginning again. */
const STABLE_RUN_MS = 60_000;
const STOP_GRACE_MS = 10_000;
/** A file that failed without changing is tried again after this many check periods, doubling up to the cap. */
const FIRST_FORCED_RETRY_CHECKS = 6;
const MAX_FORCED_RETRY_MS = 300_000;

export interface ServerProcessSettings {
  /** Between SIGTERM and SIGKILL for an engine that is replaced or whose model failed. */
  killGraceMs: number;
  /** How often the file of a failed model is checked again. */
  fileRetryMs: number;
}

export interface ServerProcessEvents {
  /** The server bound its port (the engine says so), or was started on a known one: its base URL. */
  onListening(url: string): void;
  /**
   * It serves: the engine says it loaded its model (`confirmed` false: its /health has the last word), or the
   * server's health route answered 200 (`confirmed` true).
   */
  onReady(confirmed: boolean): void;
}

/**
 * One server process for one replica of a model (the local engine, or any `type: process` command): started,
 * watched, restarted with exponential backoff when it dies, replaced when it hangs (replace()), stopped on shutdown or
 * unload (and started again later). The engine reports its address and its load's outcome over an IPC channel
 * (ServerProcessMessage); any other server is started on a known port and polled on its health route until it
 * answers 200. Its output lines go to the gateway's output, prefixed with the model id, and are never parsed. A model
 * file that is missing or refused (here, or by the engine) makes the model `failed` with the reason, and no process
 * runs; the file is checked again every `fileRetryMs` and loaded again once it has changed (or, unchanged, after a
 * slow backoff), so that fixing it brings the model back without a restart.
 */
export class ServerProcess {
  private child?: ChildProcess;
  private launch?: ServerLaunch;
  /** A guarded server's own pid (the child is its guard), once the guard has said it. */
  private serverPid?: number;
  private stopping = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;
  /** Why the running engine is being replaced; its exit is then expected and restarts it. */
  private replacing?: string;
  /** The version of the model file that last failed to load; undefined while none has. */
  private failedVersion?: string | null;
  private forcedRetryMs = 0;
  private forcedRetryAt = 0;

  constructor(
    private readonly entry: ModelEntry,
    private readonly plan: LaunchPlan,
    private readonly settings: ServerProcessSettings,
    private readonly events: ServerProcessEvents,
  ) {}

  get pid(): number | undefined {
    return this.launch?.guarded ? this.serverPid : this.child?.pid;
  }

  /** Whether an engine process is up (it may be hung: running is not serving). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server (again, after a stop: an unloaded model loaded anew). */
  start(): void {
    this.stopping = false;
    clearTimeout(this.restartTimer);
    this.entry.markStarting();
    this.startedAt = Date.now();
    void this.checkThenSpawn();
  }

  private async checkThenSpawn(): Promise<void> {
    const path = this.plan.modelPath;
    if (path !== null) {
      const version = await fileVersion(path);
      const problem = await modelFileProblem(path);
      if (this.stopping) return;
      if (problem !== null) return this.fail(problem, version);
    }
    const launch = await this.plan.launch();
    if (this.stopping) return;
    this.spawn(launch);
  }

  private spawn(launch: ServerLaunch): void {
    // The IPC channel carries the engine's messages (or the guard's); its closing, when this process exits however it
    // exits, also stops the engine (apps/engine/src/parent-channel.ts) or the guarded server's group.
    const child = spawn(launch.program, launch.args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    this.launch = launch;
    this.serverPid = undefined;
    const id = this.entry.descriptor.id;
    relayLines(child.stdout!, process.stdout, id);
    relayLines(child.stderr!, process.stderr, id);
    child.on('message', (message) => this.onMessage(child, message));
    child.on('error', (error) => this.onSpawnError(child, launch, error));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    if (launch.readiness.kind === 'health' && child.pid !== undefined) {
      const { url, healthPath } = launch.readiness;
      this.events.onListening(url);
      void pollHealth(`${url}${healthPath}`, () => child === this.child && this.running).then((served) => {
        if (served && child === this.child) this.events.onReady(true);
      });
    }
  }

  /** A program that cannot run (here Node, for the engine or the guard) is a model that cannot load, as a missing file is. */
  private onSpawnError(child: ChildProcess, launch: ServerLaunch, error: Error): void {
    if (child.pid !== undefined) return this.entry.recordError(`server process error: ${error.message}`);
    if (child !== this.child) return;
    this.child = undefined;
    this.fail(`cannot run ${launch.program}: ${error.message}`, null);
  }

  private onMessage(child: ChildProcess, message: unknown): void {
    if (child !== this.child || !isServerProcessMessage(message)) return;
    if (this.launch?.guarded) return this.onGuardMessage(child, message);
    switch (message.type) {
      case 'listening':
        return this.events.onListening(message.url);
      case 'ready':
        this.failedVersion = undefined;
        return this.events.onReady(false);
      case 'failed':
        // The engine would stay up with nothing to serve: it goes, and the file is retried as one refused here is.
        this.child = undefined;
        void terminate(child, this.settings.killGraceMs, 'SIGTERM');
        void (this.plan.modelPath === null ? Promise.resolve(null) : fileVersion(this.plan.modelPath)).then((version) =>
          this.fail(`engine could not load the model: ${message.reason}`, version),
        );
        return;
      case 'started':
        return; // the guard's word; the engine runs unguarded
    }
  }

  /** The guard says the server runs, or that its program cannot run (not found, not executable): a model that cannot load. */
  private onGuardMessage(child: ChildProcess, message: ServerProcessMessage): void {
    if (message.type === 'started') this.serverPid = message.pid;
    if (message.type !== 'failed') return;
    this.child = undefined;
    void terminate(child, this.settings.killGraceMs, 'SIGTERM');
    this.fail(message.reason, null);
  }

  /** The model cannot load from this version of its file: `failed` until the file changes or the backoff is due. */
  private fail(reason: string, version: string | null): void {
    if (this.stopping) return;
    if (this.failedVersion !== version) {
      this.forcedRetryMs = this.settings.fileRetryMs * FIRST_FORCED_RETRY_CHECKS;
    } else {
      this.forcedRetryMs = Math.min(this.forcedRetryMs * 2, Math.max(MAX_FORCED_RETRY_MS, this.settings.fileRetryMs));
    }
    this.failedVersion = version;
    this.forcedRetryAt = Date.now() + this.forcedRetryMs;
    this.entry.markFailed(`${reason} (checked again every ${this.settings.fileRetryMs} ms)`);
    this.scheduleFileCheck();
  }

  private scheduleFileCheck(): void {
    this.restartTimer = setTimeout(() => void this.checkFile(), this.settings.fileRetryMs);
  }

  private async checkFile(): Promise<void> {
    const version = this.plan.modelPath === null ? null : await fileVersion(this.plan.modelPath);
    if (this.stopping) return;
    if (version === this.failedVersion && Date.now() < this.forcedRetryAt) return this.scheduleFileCheck();
    this.start();
  }

  /**
   * The engine still runs but no longer answers: SIGTERM, SIGKILL after the grace, then the usual restart with
   * backoff. `reason` shows as the model's last error. Nothing happens when no engine runs.
   */
  replace(reason: string): void {
    const child = this.child;
    if (!child || !this.running || this.stopping || this.replacing !== undefined) return;
    this.replacing = reason;
    void terminate(child, this.settings.killGraceMs, this.launch?.stopSignal, this.serverPid);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.stopping) {
      this.entry.markStopped();
      return;
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const noun = this.launch?.readiness.kind === 'ipc' ? 'engine' : 'server';
    const what = this.replacing === undefined ? `${noun} process died` : `${noun} replaced: ${this.replacing}`;
    this.replacing = undefined;
    if (Date.now() - this.startedAt > STABLE_RUN_MS) this.backoffMs = FIRST_BACKOFF_MS;
    this.entry.markUnhealthy(`${what} (${how}); restarting in ${this.backoffMs} ms`);
    this.restartTimer = setTimeout(() => {
      this.entry.incrementRestarts();
      this.start();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  /** Resident memory of the server process, from /proc (Linux); null where that cannot be read. */
  async rssBytes(): Promise<number | null> {
    const pid = this.pid;
    if (!pid) return null;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
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

  /**
   * Stops the server and restarts nothing (start() may run it again). A model that failed keeps its state and reason:
   * there was no process to stop.
   */
  async stop(): Promise<void> {
    this.beginShutdown();
    const child = this.child;
    if (!child || !this.running) {
      if (this.entry.state !== 'failed') this.entry.markStopped();
      return;
    }
    await terminate(child, STOP_GRACE_MS, this.launch?.stopSignal, this.serverPid);
  }
}

/**
 * The launch's stop signal (SIGTERM for the engine), then SIGKILL if the process has not exited within `graceMs` (a
 * stopped process ignores SIGTERM); to the whole process group of a guarded server once its pid is known (the guard
 * exits with it), else to the child (a guard forwards it to the group).
 */
function terminate(
  child: ChildProcess,
  graceMs: number,
  stopSignal: StopSignal = 'SIGTERM',
  groupLeader?: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: StopSignal | 'SIGKILL') => {
    try {
      if (groupLeader !== undefined) process.kill(-groupLeader, name);
      else child.kill(name);
    } catch {
      // gone already
    }
  };
  signal(stopSignal);
  const killer = setTimeout(() => signal('SIGKILL'), graceMs);
  return exited.finally(() => clearTimeout(killer));
}

/** Copies a child's output to ours line by line, each line prefixed with the model id. */
function relayLines(from: Readable, to: Writable, modelId: string): void {
  createInterface({ input: from }).on('line', (line) => to.write(`[${modelId}] ${line}\n`));
}
