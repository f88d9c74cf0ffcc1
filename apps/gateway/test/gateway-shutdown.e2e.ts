import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SHIPPED_MODELS, slowTestModel } from '#test-support/engine';
import { modelView, slowEnginesConfig, startGateway, waitForModel, type RunningGateway } from '#test-support/gateway';
import { processAlive as alive } from '#test-support/processes';
import { openStream, postJson, type HttpResult } from '#test-support/http-client';

const GRACE_MS = 1500;

/** Two real engines: `llama3` slow enough (random 30M weights) to outlast the grace, `qwen2` quick. */
const shutdownConfig = () =>
  slowEnginesConfig(
    { llama3: slowTestModel(), qwen2: SHIPPED_MODELS.qwen2 },
    { defaultMaxNewTokens: 32, timeouts: { first_byte_ms: 20000, inter_token_ms: 10000, total_ms: 60000 } },
  );

/** A non-streamed answer during the drain: complete (200), or the taxonomy's 503 with Retry-After that closes. */
function assertDocumentedAnswer(res: HttpResult): 'complete' | 'refused' {
  assert.ok(res.headers['x-request-id'], 'every answer names its request');
  if (res.status === 200) {
    assert.ok(typeof res.json().generated_text === 'string', res.text);
    return 'complete';
  }
  assert.equal(res.status, 503, res.text);
  const body = res.json();
  assert.equal(body.error_type, 'unavailable', res.text);
  assert.match(body.error, /shutting down/);
  assert.equal(body.request_id, res.headers['x-request-id']);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(res.headers.connection, 'close');
  return 'refused';
}

describe('a gateway stopped with SIGTERM under load', () => {
  let gateway: RunningGateway | undefined;
  after(() => gateway?.stop());

  it('answers every request in flight (503 or a final error event past the grace, never a reset), stops its engines and exits 0', async () => {
    gateway = await startGateway(shutdownConfig(), { env: { SHUTDOWN_GRACE_MS: String(GRACE_MS) } });
    const { url } = gateway;
    const pids = await Promise.all(['llama3', 'qwen2'].map(async (id) => (await modelView(url, id)).backend.pid));
    const long = { model_id: 'llama3', inputs: 'The', parameters: { max_new_tokens: 400 } };

    // Two streams take llama3's two slots and are mid-answer; two plain requests wait behind them.
    const firstEvents: Array<Promise<void>> = [];
    const streams = [0, 1].map(() => {
      let seen!: () => void;
      firstEvents.push(new Promise<void>((resolve) => (seen = resolve)));
      return openStream(`${url}/v1/generate`, { ...long, stream: true }, () => seen());
    });
    await Promise.all(firstEvents);
    const plain = [0, 1].map(() => postJson(`${url}/v1/generate`, long));
    await waitForModel(url, 'llama3', (view) => view.queued === 2, 10_000);
    // A shorter request on the other engine, in flight at the signal (a connection still without its request is idle,
    // and a closing server closes idle connections: that is what the orchestrator's preStop pause is for).
    const short = postJson(`${url}/v1/generate`, {
      model_id: 'qwen2',
      inputs: 'Hello',
      parameters: { max_new_tokens: 48 },
    });
    await waitForModel(url, 'qwen2', (view) => view.in_flight === 1, 10_000);

    const signalledAt = performance.now();
    gateway.process.child.kill('SIGTERM');

    const answers = await Promise.all(plain);
    const streamed = await Promise.all(streams.map((stream) => stream.done));
    const answeredWithinMs = performance.now() - signalledAt;
    assertDocumentedAnswer(await short);
    const outcomes = answers.map(assertDocumentedAnswer);
    assert.ok(outcomes.includes('refused'), 'requests still waiting when the grace ran out were answered 503');
    for (const { status, events } of streamed) {
      assert.equal(status, 200);
      const last = events.at(-1);
      assert.ok(last.error_type === 'unavailable' || typeof last.generated_text === 'string', JSON.stringify(last));
    }
    assert.ok(
      streamed.some(({ events }) => events.at(-1).error_type === 'unavailable'),
      'a stream cut by the grace ends with an error event',
    );
    assert.ok(answeredWithinMs < GRACE_MS + 3000, `answered ${Math.round(answeredWithinMs)} ms after SIGTERM`);

    const { code, signal } = await gateway.process.exited;
    assert.equal(code, 0, `exit ${code ?? signal}; output:\n${gateway.process.output.slice(-20).join('\n')}`);
    for (const pid of pids) assert.equal(alive(pid), false, `engine ${pid} is gone when the gateway exits`);
    assert.ok(!gateway.process.output.some((line) => /\bERROR\b/.test(line)), 'no error logged');
  });
});
