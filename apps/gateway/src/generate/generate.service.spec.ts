import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { DispatchJob, DispatchQueue } from '#dispatch';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry, parseRegistryConfig } from '#model-registry';
import { InProcessRateLimiter } from '#rate-limits';
import type { GenerateRequestDto } from './generate-request.dto.js';
import { addressCaller } from '../auth/caller.js';
import { RateLimitGate } from '../limits/rate-limit-gate.service.js';
import { ResidencyService } from '../residency/residency.service.js';
import { ServingPath } from '../serving/serving-path.service.js';
import { GenerateService } from './generate.service.js';

/** A queue that records the jobs it is given and answers at once. */
function recordingQueue(): DispatchQueue & { jobs: DispatchJob[] } {
  const jobs: DispatchJob[] = [];
  return {
    jobs,
    setMaxConcurrent: () => undefined,
    dispatch: async (_modelId, job) => {
      jobs.push(job);
      return {
        outcome: {
          generatedText: 'x',
          finishReason: 'length',
          inputTokens: 1,
          outputTokens: 1,
          seed: null,
          timings: { firstTokenMs: 1, backendMs: 1 },
        },
        queuedMs: 0,
      };
    },
    stats: async () => ({ inFlight: 0, queued: 0, admitted: 0, serviceRatePerS: null, predictedWaitMs: 0 }),
    close: async () => undefined,
  };
}

function service(dispatchYaml: string) {
  const config = parseRegistryConfig(
    `${dispatchYaml}
defaults: { max_new_tokens: 512, default_max_new_tokens: 64, timeouts: { total_ms: 30000 } }
models:
  - { id: m, quantization: q, backend: { type: tgi, url: "http://tgi:80" } }
`,
    'test.yaml',
  );
  const registry = new ModelRegistry(config);
  const entry = registry.get('m');
  entry.markLoading();
  entry.markReady();
  const queue = recordingQueue();
  const limits = new RateLimitGate(new InProcessRateLimiter(), new GatewayMetrics(null, { processMetrics: false }));
  // A TGI server outside: nothing for residency to load or unload.
  const residency = new ResidencyService(registry, { load: () => true, unload: async () => undefined }, queue);
  return { queue, generation: new GenerateService(new ServingPath(registry, queue, limits, residency)) };
}

const request = (extra: Partial<GenerateRequestDto> = {}): GenerateRequestDto => ({
  model_id: 'm',
  inputs: 'hi',
  ...extra,
});
const context = {
  signal: new AbortController().signal,
  caller: addressCaller('127.0.0.1'),
  response: new ServerResponse(new IncomingMessage(new Socket())),
};

describe('GenerateService: what it hands the dispatch queue', () => {
  it('gives each request the priority of the configured order: by scenario, or fewest max_new_tokens first', async () => {
    const byScenario = service('dispatch: { priority: scenario, scenario_priority: { chat: 1, qa: 2 } }');
    await byScenario.generation.generate(request({ scenario: 'qa' }), context);
    await byScenario.generation.generate(request({ scenario: 'chat' }), context);
    await byScenario.generation.generate(request(), context);
    assert.deepEqual(
      byScenario.queue.jobs.map((j) => j.priority),
      [2, 1, 3],
    );

    const shortest = service('dispatch: { priority: shortest_first }');
    await shortest.generation.generate(request({ parameters: { max_new_tokens: 16 } }), context);
    await shortest.generation.generate(request(), context);
    assert.deepEqual(
      shortest.queue.jobs.map((j) => j.priority),
      [16, 64],
    );
  });

  it("sets the deadline from the model's total_ms, or the client's shorter timeout_ms", async () => {
    const { queue, generation } = service('');
    const before = Date.now();
    await generation.generate(request(), context);
    await generation.generate(request({ timeout_ms: 500 }), context);
    await generation.generate(request({ timeout_ms: 90_000 }), context);
    const budgets = queue.jobs.map((j) => j.deadline - before);
    assert.ok(budgets[0]! >= 30_000 && budgets[0]! < 30_500, String(budgets[0]));
    assert.ok(budgets[1]! >= 500 && budgets[1]! < 1000, String(budgets[1]));
    assert.ok(budgets[2]! < 30_500, 'never more than total_ms');
  });

  it('takes parameters: null (a JSON body may send it; the field is optional) as none given', async () => {
    const { queue, generation } = service('');
    const body = request({ parameters: null } as unknown as Partial<GenerateRequestDto>);
    await generation.generate(body, context);
    assert.deepEqual((queue.jobs[0]!.request as { parameters: unknown }).parameters, { max_new_tokens: 64 });
  });
});
