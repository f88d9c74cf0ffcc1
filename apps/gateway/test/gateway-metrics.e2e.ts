import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { captureStatsd, parsePrometheusText, type StatsdCapture } from '#metrics/testing';
import { startGateway, tgiModelsYaml, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { openStream, parseSse, postJson, request, type HttpResult } from '#test-support/http-client';

/**
 * Every /v1/generate request is counted exactly once, whatever its end — served, refused by validation before any
 * handler runs, failed in the backend, timed out, failed inside a started stream, or abandoned by its client — in
 * StatsD (read off the wire) and in Prometheus (/metrics), with the tokens the clients were told about.
 */
function scriptFor(inputs: string): StandInScript {
  switch (inputs) {
    case 'overload':
      return { overloaded: true };
    case 'silent':
      return { firstTokenDelayMs: 5000 };
    case 'fail-midstream':
      return {
        tokens: ['a', 'b', 'c', 'd'],
        tokenDelayMs: 20,
        errorAfterTokens: { tokens: 2, errorType: 'generation', message: 'CUDA error' },
      };
    case 'slow':
      return { tokens: Array.from({ length: 20 }, (_, i) => ` t${i}`), tokenDelayMs: 50 };
    default:
      return { tokens: inputs.split(' ').map((word) => ` ${word}`) };
  }
}

describe('gateway metrics: StatsD keys and Prometheus, one record per request', () => {
  let standIn: TgiStandIn;
  let gateway: RunningGateway;
  let statsd: StatsdCapture;
  const answers: HttpResult[] = [];
  let streamed: { status: number; events: any[] };
  let abandoned: { status: number; events: any[] };
  let failedStream: HttpResult;

  before(async () => {
    standIn = await startTgiStandIn({ script: (req) => scriptFor((req.body as { inputs: string }).inputs) });
    statsd = await captureStatsd();
    gateway = await startGateway(writeModelsConfig(tgiModelsYaml(standIn.url, { firstByteMs: 3000 })), {
      env: { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(statsd.port) },
    });
    const url = `${gateway.url}/v1/generate`;
    const generate = (inputs: string, extra: Record<string, unknown> = {}) =>
      postJson(url, { model_id: 'qwen2', inputs, parameters: { max_new_tokens: 16 }, ...extra });
    answers.push(await generate('one two three'));
    answers.push(await generate('four five'));
    answers.push(
      await postJson(url, {
        model_id: 'Qwen2-7B-Instruct-GPTQ-Int4',
        inputs: 'by alias',
        parameters: { max_new_tokens: 16 },
      }),
    );
    answers.push(await generate('too hot', { parameters: { temperature: -1 } })); // validation, model named
    answers.push(await postJson(url, { model_id: 'gpt-4', inputs: 'unknown model' })); // 404, no per-model key
    answers.push(
      await request(url, { method: 'POST', rawBody: 'not json', headers: { 'content-type': 'text/plain' } }),
    ); // 415
    answers.push(await generate('overload')); // 429
    answers.push(await generate('silent', { timeout_ms: 300 })); // 504
    streamed = await openStream(url, { model_id: 'qwen2', inputs: 'streamed words here', stream: true }, () => {}).done;
    failedStream = await request(url, {
      method: 'POST',
      body: { model_id: 'qwen2', inputs: 'fail-midstream', stream: true },
    });
    const slow = openStream(url, { model_id: 'qwen2', inputs: 'slow', stream: true }, () => slow.abort());
    abandoned = await slow.done;
    await sleep(300); // the gateway sees the disconnect
  });
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
    await statsd?.close();
  });

  const SENT = 11;

  /** hot-shots sends its buffer every second: wait until requests.total stops growing at the number sent. */
  async function flushed(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (statsd.counter('requests.total') < SENT && Date.now() < deadline) await sleep(100);
    await sleep(1200);
  }

  it('answers as expected (the cases below depend on it)', () => {
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 422, 404, 415, 429, 504],
    );
    assert.equal(streamed.status, 200);
    assert.equal(parseSse(failedStream.text).at(-1).error_type, 'upstream');
    assert.ok(abandoned.events.length >= 1);
  });

  it('counts every request in requests.total and request.latency, exactly once', async () => {
    await flushed();
    assert.equal(statsd.counter('requests.total'), SENT);
    assert.equal(statsd.timings('request.latency').length, SENT);
  });

  it('counts requests.model.<id> for every request naming a served model (alias included), failures included', () => {
    // 3 served + validation + overloaded + timeout + streamed + failed stream + abandoned
    assert.equal(statsd.counter('requests.model.qwen2'), 9);
    assert.ok(
      ![...statsd.keys()].some((key) => key.includes('gpt-4') || key.includes('gpt_4')),
      'unknown ids never become keys',
    );
  });

  it('adds the tokens each client was told about to requests.model.<id>.input_tokens / output_tokens', () => {
    const served = answers.filter((a) => a.status === 200).map((a) => a.json().usage);
    const final = streamed.events.at(-1).usage;
    const input = served.reduce((sum, u) => sum + u.input_tokens, 0) + final.input_tokens;
    const output = served.reduce((sum, u) => sum + u.output_tokens, 0) + final.output_tokens;
    assert.ok(input > 0 && output > 0);
    assert.equal(statsd.counter('requests.model.qwen2.input_tokens'), input);
    assert.equal(statsd.counter('requests.model.qwen2.output_tokens'), output);
  });

  it("counts errors by type, the seed's requests.errors.timeout among them", () => {
    assert.equal(statsd.counter('requests.errors.timeout'), 1);
    assert.equal(statsd.counter('requests.errors.validation'), 2); // bad temperature, text/plain body
    assert.equal(statsd.counter('requests.errors.model_not_found'), 1);
    assert.equal(statsd.counter('requests.errors.overloaded'), 1);
    assert.equal(statsd.counter('requests.errors.upstream'), 1); // inside a 200 stream
    assert.equal(statsd.counter('requests.errors.cancelled'), 1);
    assert.equal(statsd.counter('requests.model.qwen2.errors.timeout'), 1);
  });

  it('times each served request: latency, per-model latency, queue wait, time to first token, overhead', () => {
    assert.equal(statsd.timings('request.model.qwen2.latency').length, 9);
    assert.equal(statsd.timings('request.queue_wait').length, 4);
    assert.equal(statsd.timings('request.ttft').length, 4);
    const overhead = statsd.timings('request.gateway_overhead');
    assert.equal(overhead.length, 4);
    for (const ms of overhead) assert.ok(ms >= 0 && ms < 50, `overhead ${ms} ms`);
    // The gateway's latency of a request is never more than what its client waited.
    const timeout = statsd.timings('request.latency').find((ms) => ms > 250 && ms < 1000);
    assert.ok(timeout !== undefined, 'the 300 ms deadline shows in request.latency');
  });

  it('says its own overhead in the x-gateway-overhead-ms header and the body', () => {
    const served = answers[0]!;
    const header = Number(served.headers['x-gateway-overhead-ms']);
    assert.ok(Number.isFinite(header) && header >= 0 && header <= served.json().latency_ms);
    assert.equal(header, served.json().gateway_overhead_ms);
    assert.ok(streamed.events.at(-1).gateway_overhead_ms >= 0);
  });

  it('exposes the same counts on /metrics for Prometheus', async () => {
    const res = await request(`${gateway.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const metrics = parsePrometheusText(res.text);
    const requests = [...metrics].filter(([name]) => name.startsWith('sluice_requests_total{'));
    assert.equal(
      requests.reduce((sum, [, v]) => sum + v, 0),
      SENT,
    );
    assert.equal(metrics.get('sluice_requests_total{model="qwen2",outcome="ok",route="generate"}'), 4);
    assert.equal(metrics.get('sluice_requests_total{model="qwen2",outcome="timeout",route="generate"}'), 1);
    assert.equal(metrics.get('sluice_requests_total{model="",outcome="model_not_found",route="generate"}'), 1);
    assert.equal(
      metrics.get('sluice_tokens_total{model="qwen2",kind="output"}'),
      statsd.counter('requests.model.qwen2.output_tokens'),
    );
    assert.equal(metrics.get('sluice_request_duration_seconds_count{model="qwen2"}'), 9);
    assert.equal(metrics.get('sluice_gateway_overhead_seconds_count'), 4);
    assert.equal(metrics.get('sluice_model_ready{model="qwen2"}'), 1);
    assert.equal(metrics.get('sluice_in_flight_requests'), 0);
  });

  it('sends the model gauges to StatsD', () => {
    assert.equal(statsd.gauge('model.qwen2.ready'), 1);
    assert.equal(statsd.gauge('model.qwen2.in_flight'), 0);
    assert.equal(statsd.gauge('model.qwen2.queued'), 0);
    assert.ok((statsd.gauge('model.qwen2.cold_start_ms') ?? -1) >= 0);
    assert.equal(statsd.gauge('gateway.in_flight'), 0);
  });
});
