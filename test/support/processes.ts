import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ManagedProcessOptions {
  /** Opens Node's IPC channel to the child (for servers that report over it: ServerProcessMessage). */
  ipc?: boolean;
}

/**
 * A child process whose output lines, and messages if it has an IPC channel, we can wait on. Nothing here kills it
 * when the test ends: the test's cleanup calls `stop()`, and a child with the channel can watch for its parent going.
 */
export class ManagedProcess {
  readonly output: string[] = [];
  /** What the child sent over its IPC channel, in order. */
  readonly messages: unknown[] = [];
  private readonly waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  private readonly messageWaiters: Array<(message: unknown) => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.output.push(line);
        for (const waiter of [...this.waiters]) {
          const match = line.match(waiter.pattern);
          if (match) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(match);
          }
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('message', (message) => {
      this.messages.push(message);
      for (const waiter of [...this.messageWaiters]) waiter(message);
    });
    this.exited = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  static start(
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    options: ManagedProcessOptions = {},
  ): ManagedProcess {
    return new ManagedProcess(
      spawn(command, args, {
        env: { ...process.env, ...env },
        stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const seen = this.output.map((l) => l.match(pattern)).find(Boolean);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${pattern}; output:\n${this.output.join('\n')}`)),
        timeoutMs,
      );
      this.waiters.push({
        pattern,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code ?? signal}) before ${pattern}; output:\n${this.output.join('\n')}`));
      });
    });
  }

  /** The first message (already received or still to come) that `accept` takes; rejects if the child exits first. */
  waitForMessage<T>(accept: (message: unknown) => message is T, timeoutMs = 30_000): Promise<T> {
    const seen = this.messages.find(accept);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (message: unknown) => {
        if (!accept(message)) return;
        settle();
        resolve(message);
      };
      const settle = () => {
        clearTimeout(timer);
        this.messageWaiters.splice(this.messageWaiters.indexOf(waiter), 1);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`timed out waiting for a message; output:\n${this.output.join('\n')}`));
      }, timeoutMs);
      this.messageWaiters.push(waiter);
      void this.exited.then(({ code, signal }) => {
        if (!this.messageWaiters.includes(waiter)) return;
        settle();
        reject(new Error(`process exited (${code ?? signal}) before the message; output:\n${this.output.join('\n')}`));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
