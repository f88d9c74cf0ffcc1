import { randomUUID } from 'node:crypto';
import { externalRedisUrl, startRedisServer, type TestRedis } from '#dispatch/testing';

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
