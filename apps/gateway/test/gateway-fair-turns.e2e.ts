import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTgiStandIn, type TgiStandIn } from '#backends/testing';
import { redisForGateways, type GatewayRedis } from '#dispatch/testing';
import { startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { request } from '#test-support/http-client';
import { hashApiKey } from '../src/auth/key-ring.js';

/**
 * Fair turns between callers, end to end: one client floods a model while another sends requests of the same size one
 * at a time. Without API keys a caller is its client address, so the two connect from different loopback addresses
 * (Linux routes all of 127/8 to lo); with keys a caller is its key, so the two then share one address. The backend is the TGI STAND-IN from `#backends/testing`, streaming 16 tokens at
 * a scripted pace; the flood's pace varies per request, as real generations do, so its jobs do not finish in lockstep.
 */
const TOKENS = 16;
const TOKEN_DELAY_MS = 25;
// Enough slots that one frees up soon after the light caller's request arrives (no job is ever preempted), so what
// the light caller waits for is its turn, not the machine's noise.
const SLOTS = 16;
const FLOOD = { requests: 200, concurrency: 50 };
/** A light request's time at the backend, about. */
const SERVICE_MS = TOKENS * TOKEN_DELAY_MS;

/** Who the flooder and the light caller are: their addresses, and with keys the keys they show. */
interface Callers {
  flooder: { address: string; key?: string };
  light: { address: string; key?: string };
}
const BY_ADDRESS: Callers = { flooder: { address: '127.0.0.1' }, light: { address: '127.0.0.2' } };
const BY_KEY: Callers = {
  flooder: { address: '127.0.0.1', key: 'sk-test-flooder-0123456789abcdef' },
  light: { address: '127.0.0.1', key: 'sk-test-light-0123456789abcdef' },
};

function keysFile({ flooder, light }: Callers): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.yaml');
  writeFileSync(
    path,
    `keys:\n  - { name: flooder, sha256: ${hashApiKey(flooder.key!)} }\n  - { name: light, sha256: ${hashApiKey(light.key!)} }\n`,
  );
  return path;
}

interface Client {
  agent: http.Agent;
  /** One generation; resolves with its latency, ms, once answered 200. */
  generate(inputs: string): Promise<number>;
}

function clientFrom(
  { address, key }: { address: string; key?: string },
  gateway: RunningGateway,
  maxSockets: number,
): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets, localAddress: address });
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  return {
    agent,
    async generate(inputs) {
      const sentAt = performance.now();
      const res = await request(`${gateway.url}/v1/generate`, {
        method: 'POST',
        body: { model_id: 'qwen2', inputs, parameters: { max_new_tokens: TOKENS } },
        headers,
        agent,
      });
      assert.equal(res.status, 200, res.text);
      return performance.now() - sentAt;
    },
  };
}

/**
 * A flood of `requests` from `concurrency` connections at once, each sending its next as soon as one is answered.
 * Resolves with the flood's end once the flood is under way: its burst admitted and its first jobs running.
 */
async function flood(client: Client, requests: number): Promise<{ done: Promise<void> }> {
  let next = 0;
  const done = Promise.all(
    Array.from({ length: FLOOD.concurrency }, async () => {
      while (next < requests) await client.generate(`flood ${next++}`);
    }),
  ).then(() => undefined);
  await sleep(SERVICE_MS);
  return { done };
}

/** Requests one at a time until `until` settles: each one's latency. */
async function oneAtATime(client: Client, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  while (!done) latencies.push(await client.generate('light'));
  return latencies;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (ms: number) => Math.round(ms);

const CASES = [
  { queue: 'in-process', callers: BY_ADDRESS, by: 'client address' },
  { queue: 'BullMQ (Redis)', callers: BY_ADDRESS, by: 'client address' },
  { queue: 'in-process', callers: BY_KEY, by: 'API key' },
] as const;

for (const { queue, callers, by } of CASES)
  describe(`fair turns between callers (by ${by}), ${queue} dispatch queue`, () => {
    let standIn: TgiStandIn;
    let gateway: RunningGateway;
    let redis: GatewayRedis | undefined;
    const agents: http.Agent[] = [];

    before(async () => {
      standIn = await startTgiStandIn({
        script: (req) => {
          const flooding = (req.body as { inputs: string }).inputs.startsWith('flood');
          // The flood's pace varies by ±50 % around the light caller's, so its slots free up one by one.
          const tokenDelayMs = flooding ? TOKEN_DELAY_MS * (0.5 + Math.random()) : TOKEN_DELAY_MS;
          return { tokens: Array.from({ length: TOKENS }, (_, i) => ` t${i}`), tokenDelayMs };
        },
        maxConcurrentRequests: 1000,
      });
      redis = queue === 'in-process' ? undefined : await redisForGateways();
      // Nothing is refused here: the subject is the order of the line, not admission (the dispatch suites cover it).
      const config = tgiModelsYaml(standIn.url, {
        maxConcurrent: SLOTS,
        maxQueued: 256,
        maxQueueWaitMs: 60_000,
        firstByteMs: 20_000,
        totalMs: 30_000,
      });
      const keys = callers.light.key === undefined ? {} : { API_KEYS_FILE: keysFile(callers) };
      gateway = await startGateway(writeModelsConfig(config), { env: { ...redis?.env, ...keys } });
    });
    after(async () => {
      for (const agent of agents) agent.destroy();
      await gateway?.stop();
      await standIn?.close();
      await redis?.stop();
    });

    const client = (caller: { address: string; key?: string }, maxSockets: number) => {
      const made = clientFrom(caller, gateway, maxSockets);
      agents.push(made.agent);
      return made;
    };

    it("keeps a light caller's p99 within twice its unloaded latency while another caller floods the model; one caller's FIFO does not", async (t) => {
      const light = client(callers.light, 1);
      await light.generate('warm-up');
      const unloaded = percentile(await oneAtATime(light, sleep(4 * SERVICE_MS)), 50);

      const flooder = client(callers.flooder, FLOOD.concurrency);
      const fair = await oneAtATime(light, (await flood(flooder, FLOOD.requests)).done);

      // A shorter flood with the light requests sent as the flooder (its address, or its key): one caller, whose jobs
      // keep their arrival order — what every request got before fair turns.
      const sameCaller = client(callers.flooder, 1);
      const fifo = await oneAtATime(sameCaller, (await flood(flooder, FLOOD.requests / 2)).done);

      const figures = {
        unloadedMs: round(unloaded),
        fair: { requests: fair.length, p50Ms: round(percentile(fair, 50)), p99Ms: round(percentile(fair, 99)) },
        fifo: { requests: fifo.length, p50Ms: round(percentile(fifo, 50)), p99Ms: round(percentile(fifo, 99)) },
      };
      t.diagnostic(`${queue}, by ${by}: light caller's latency, ms: ${JSON.stringify(figures)}`);
      assert.ok(fair.length >= 5 && fifo.length >= 1, JSON.stringify(figures));
      assert.ok(percentile(fair, 99) <= 2 * unloaded, `fair turns: p99 within 2× unloaded: ${JSON.stringify(figures)}`);
      assert.ok(percentile(fifo, 99) > 2 * unloaded, `arrival order: p99 past 2× unloaded: ${JSON.stringify(figures)}`);
      assert.equal(standIn.stats.maxInFlight, SLOTS, "the model's cap held throughout");
    });
  });

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
