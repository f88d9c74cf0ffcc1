import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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

  static start(name: string, script: URL, args: string[], env: NodeJS.ProcessEnv = {}): ChildService {
    const child = spawn(process.execPath, [fileURLToPath(script), ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const service = new ChildService(name, child);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) service.output.push(line);
      if (service.output.length > 500) service.output.splice(0, service.output.length - 500);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
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
export const GATEWAY_MAIN = new URL('../../../gateway/src/main.js', import.meta.url);
