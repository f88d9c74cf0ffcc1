import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { USAGE_QUESTION, type ProcessUsage } from './process-usage.js';

/** A server the benchmark starts as a child process, known by a line it prints; stopped with the benchmark. */
export class ChildService {
  readonly output: string[] = [];
  private readonly exited: Promise<number | null>;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    process.once('exit', this.killOnExit);
  }

  /**
   * Starts `script` under node with `nodeArgs` (e.g. `--cpu-prof`) and the usage reporter loaded, over an IPC channel
   * that `usage()` asks.
   */
  static start(
    name: string,
    script: URL,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    nodeArgs: readonly string[] = [],
  ): ChildService {
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', USAGE_REPORTER.href, fileURLToPath(script), ...args],
      { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] },
    );
    const service = new ChildService(name, child);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) service.output.push(line);
      if (service.output.length > 500) service.output.splice(0, service.output.length - 500);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return service;
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits or the time is up. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const line of this.output) {
          const match = line.match(pattern);
          if (match) return finish(() => resolve(match));
        }
      };
      const poll = setInterval(check, 20);
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `${this.name}: no line matching ${pattern} after ${timeoutMs} ms; output:\n${this.output.slice(-20).join('\n')}`,
              ),
            ),
          ),
        timeoutMs,
      );
      void this.exited.then((code) =>
        finish(() =>
          reject(
            new Error(`${this.name} exited (${code}) before ${pattern}; output:\n${this.output.slice(-20).join('\n')}`),
          ),
        ),
      );
      let done = false;
      function finish(action: () => void) {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(timer);
        action();
      }
      check();
    });
  }

  /** The process's own CPU time and event-loop delay (since the last question), from the usage reporter inside it. */
  usage(timeoutMs = 5_000): Promise<ProcessUsage> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (typeof message !== 'object' || message === null || !('cpuUserUs' in message)) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message as ProcessUsage);
      };
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`${this.name}: no answer to the usage question within ${timeoutMs} ms`));
      }, timeoutMs);
      this.child.on('message', onMessage);
      this.child.send(USAGE_QUESTION);
    });
  }

  async stop(): Promise<void> {
    process.off('exit', this.killOnExit);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The built entry points this benchmark starts (paths in dist/, next to this file's). */
export const BENCH_MAIN = new URL('../main.js', import.meta.url);
const USAGE_REPORTER = new URL('./usage-reporter.js', import.meta.url);
export const GATEWAY_MAIN = new URL('../../../gateway/src/main.js', import.meta.url);
