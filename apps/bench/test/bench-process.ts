import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BENCH_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

export interface BenchExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bench CLI to its end (killed after `timeoutMs`). */
export function runBench(args: string[], timeoutMs = 60_000): Promise<BenchExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BENCH_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
