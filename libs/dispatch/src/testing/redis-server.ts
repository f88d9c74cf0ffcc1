import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { freeTcpPort } from '#backends/testing';

/**
 * A REAL redis-server for tests and benchmarks, on a free port, without persistence, killed with the process that
 * started it. `REDIS_URL` in the environment is honoured where a test may share a server (`externalRedisUrl`).
 */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server as a crash would (SIGKILL): connections drop, nothing is saved. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Freezes it as a hung server would (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a paused server run on (SIGCONT): it works through what it was sent meanwhile. */
  resume(): void;
}

export async function startRedisServer(): Promise<TestRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeTcpPort();
    try {
      return await ownServer(port);
    } catch (error) {
      // Another process took the port between our probe and redis binding it: try another.
      if (attempt >= 5) throw error;
    }
  }
}

/** The `REDIS_URL` of the environment, if set: tests that only need some Redis use it instead of their own. */
export function externalRedisUrl(): string | undefined {
  return process.env.REDIS_URL || undefined;
}

export interface GatewayRedis {
  /** REDIS_URL and a DISPATCH_PREFIX of its own, for startGateway's env: gateways given the same env share queues. */
  env: Record<string, string>;
  /** The server this helper started (absent when REDIS_URL came from the environment). */
  server?: TestRedis;
  stop(): Promise<void>;
}

/** A Redis for gateways under test: REDIS_URL if set, else a redis-server of our own on a free port. */
export async function redisForGateways(options: { own?: boolean } = {}): Promise<GatewayRedis> {
  const external = options.own ? undefined : externalRedisUrl();
  const server = external ? undefined : await startRedisServer();
  const env = { REDIS_URL: external ?? server!.url, DISPATCH_PREFIX: `sluice-test-${randomUUID()}` };
  return { env, ...(server ? { server } : {}), stop: async () => server?.stop() };
}

async function ownServer(port: number): Promise<TestRedis> {
  let child: ChildProcess | undefined = await spawnRedis(port);
  const killOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killOnExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGKILL');
      await once(running, 'exit');
    },
    async start() {
      if (child) return;
      child = await spawnRedis(port);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining, or a chatty server would block on a full pipe
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.resume();
    child.once('error', (error) =>
      reject(
        new Error(`could not start redis-server (is it installed? apt-get install redis-server): ${error.message}`),
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) on port ${port}:\n${output}`)));
  });
  return child;
}
