import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { captureStatsd, parsePrometheusText, type StatsdCapture } from '#metrics/testing';
import { startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { request } from '#test-support/http-client';

/** The stand-in answers a chat by its last message, a completion by its prompt. */
function scriptFor(body: unknown): StandInScript {
  const { messages, inputs } = body as { messages?: Array<{ content: string }>; inputs?: string };
  const text = messages?.at(-1)?.content ?? inputs ?? '';
  if (text === 'silent') return { firstTokenDelayMs: 5000 };
  return { tokens: text.split(' ').map((word) => ` ${word}`) };
}

/**
 * Requests on the OpenAI routes count in the guide's StatsD keys exactly as /v1/generate ones do (read off the wire
 * from a real gateway), with the tokens the clients were told about, and in Prometheus with their route.
 */
describe('gateway metrics: the OpenAI routes in the StatsD keys and Prometheus', () => {
  let standIn: TgiStandIn;
  let gateway: RunningGateway;
  let statsd: StatsdCapture;
  const usages: OpenAI.CompletionUsage[] = [];
  const refusals: unknown[] = [];

  before(async () => {
    standIn = await startTgiStandIn({ script: (request) => scriptFor(request.body) });
    statsd = await captureStatsd();
    gateway = await startGateway(
      writeModelsConfig(tgiModelsYaml(standIn.url, { firstByteMs: 300, interTokenMs: 300, totalMs: 1000 })),
      {
        env: { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(statsd.port) },
      },
    );
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const plain = await client.chat.completions.create({
      model: 'qwen2',
      messages: [{ role: 'user', content: 'one two three' }],
    });
    usages.push(plain.usage!);
    const stream = await client.chat.completions.create({
      model: 'qwen2',
      messages: [{ role: 'user', content: 'four five' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
    const completion = await client.completions.create({ model: 'Qwen2-7B-Instruct-GPTQ-Int4', prompt: 'six seven' });
    usages.push(completion.usage!);
    const refused = [
      // 504: a chat nobody streams is one answer from the backend, bounded by total_ms
      () => client.chat.completions.create({ model: 'qwen2', messages: [{ role: 'user', content: 'silent' }] }),
      () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), // 404
      () => client.chat.completions.create({ model: 'qwen2', messages: [] }), // 400, model named
    ];
    for (const send of refused)
      refusals.push(
        await send().then(
          () => undefined,
          (error: unknown) => error,
        ),
      );
  });
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
    await statsd?.close();
  });

  const SENT = 6;

  /** hot-shots sends its buffer every second: wait until requests.total reaches the number sent, then one more flush. */
  async function flushed(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (statsd.counter('requests.total') < SENT && Date.now() < deadline) await sleep(100);
    await sleep(1200);
  }

  it('counts each request once in requests.total, request.latency and requests.model.<id>', async () => {
    assert.deepEqual(
      refusals.map((error) => (error as { status?: number }).status),
      [504, 404, 400],
    );
    await flushed();
    assert.equal(statsd.counter('requests.total'), SENT);
    assert.equal(statsd.timings('request.latency').length, SENT);
    assert.equal(statsd.counter('requests.model.qwen2'), SENT - 1, 'all but the unknown model');
    assert.ok(![...statsd.keys()].some((key) => key.includes('gpt-4o') || key.includes('gpt_4o')));
    assert.equal(statsd.timings('request.model.qwen2.latency').length, SENT - 1);
  });

  it('adds the tokens each client was told about in usage, and counts the errors by type', () => {
    const input = usages.reduce((sum, usage) => sum + usage.prompt_tokens, 0);
    const output = usages.reduce((sum, usage) => sum + usage.completion_tokens, 0);
    assert.ok(output > 0);
    assert.equal(statsd.counter('requests.model.qwen2.input_tokens'), input);
    assert.equal(statsd.counter('requests.model.qwen2.output_tokens'), output);
    assert.equal(statsd.counter('requests.errors.timeout'), 1);
    assert.equal(statsd.counter('requests.model.qwen2.errors.timeout'), 1);
    assert.equal(statsd.counter('requests.errors.model_not_found'), 1);
    assert.equal(statsd.counter('requests.errors.validation'), 1);
  });

  it('labels the Prometheus request counter with the route', async () => {
    const samples = parsePrometheusText((await request(`${gateway.url}/metrics`)).text);
    const count = (route: string, outcome: string) =>
      samples.get(`sluice_requests_total{model="qwen2",outcome="${outcome}",route="${route}"}`) ?? 0;
    assert.equal(count('chat_completions', 'ok'), 2);
    assert.equal(count('completions', 'ok'), 1);
    assert.equal(count('chat_completions', 'timeout'), 1);
    assert.equal(count('chat_completions', 'validation'), 1);
    assert.equal(count('generate', 'ok'), 0);
  });
});
