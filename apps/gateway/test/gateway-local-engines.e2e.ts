import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { slowTestModel } from '#test-support/engine';
import { modelView, slowEnginesConfig, startGateway, waitForModel, type RunningGateway } from '#test-support/gateway';
import { processAlive as alive } from '#test-support/processes';
import { openStream, postJson } from '#test-support/http-client';

/** A gateway supervising one real engine on a model slow enough (random 30M weights) to be hit mid-generation. */
const slowLocalConfig = () =>
  slowEnginesConfig(
    { llama3: slowTestModel() },
    { defaultMaxNewTokens: 32, timeouts: { first_byte_ms: 10000, inter_token_ms: 5000, total_ms: 30000 } },
  );

describe('gateway supervising a local engine', () => {
  let gateway: RunningGateway;
  const long = { model_id: 'llama3', inputs: 'The', parameters: { max_new_tokens: 400 } };

  before(async () => {
    gateway = await startGateway(slowLocalConfig());
  });
  after(() => gateway?.stop());

  it('answers a streaming request whose engine is SIGKILLed with a prompt error event, restarts the engine and serves again', async () => {
    const {
      backend: { pid },
    } = await modelView(gateway.url, 'llama3');
    let killedAt = 0;
    const stream = openStream(`${gateway.url}/v1/generate`, { ...long, stream: true }, (event) => {
      if (event.index === 1 && !killedAt) {
        killedAt = performance.now();
        process.kill(pid, 'SIGKILL');
      }
    });
    const { status, events } = await stream.done;
    assert.equal(status, 200);
    const last = events.at(-1);
    assert.ok(['upstream', 'unavailable'].includes(last.error_type), JSON.stringify(last));
    assert.ok(performance.now() - killedAt < 2000, 'the client learns of the crash at once, not at a timeout');

    const recovered = await waitForModel(gateway.url, 'llama3', (v) => v.state === 'ready' && v.restarts >= 1, 30_000);
    assert.notEqual(recovered.backend.pid, pid);
    assert.match(recovered.last_error.message, /SIGKILL/);
    assert.ok(recovered.cold_start_ms > 0);
    const res = await postJson(`${gateway.url}/v1/generate`, {
      model_id: 'llama3',
      inputs: 'Hello',
      parameters: { max_new_tokens: 4 },
    });
    assert.equal(res.status, 200);
  });

  it('answers a plain request whose engine dies with a quick 502/503 JSON error', async () => {
    const {
      backend: { pid },
    } = await modelView(gateway.url, 'llama3');
    const pending = postJson(`${gateway.url}/v1/generate`, long);
    await new Promise((r) => setTimeout(r, 150));
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    const res = await pending;
    assert.ok([502, 503].includes(res.status), res.text);
    assert.ok(['upstream', 'unavailable'].includes(res.json().error_type));
    assert.ok(performance.now() - killedAt < 2000);
    await waitForModel(gateway.url, 'llama3', (v) => v.state === 'ready' && v.restarts >= 2, 30_000);
  });

  it('shuts down gracefully: finishes the request in flight, then stops its engines and exits 0', async () => {
    const {
      backend: { pid },
    } = await modelView(gateway.url, 'llama3');
    const pending = postJson(`${gateway.url}/v1/generate`, { ...long, parameters: { max_new_tokens: 200 } });
    await new Promise((r) => setTimeout(r, 100));
    gateway.process.child.kill('SIGTERM');
    const res = await pending;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().usage.output_tokens, 200);
    const { code } = await gateway.process.exited;
    assert.equal(code, 0);
    assert.equal(alive(pid), false, 'the engine process is gone');
  });
});

describe('engines of a gateway that dies', () => {
  it('exit by themselves when their gateway is SIGKILLed (no orphaned engines holding ports)', async () => {
    const gateway = await startGateway(slowLocalConfig());
    const {
      backend: { pid },
    } = await modelView(gateway.url, 'llama3');
    gateway.process.child.kill('SIGKILL');
    await gateway.process.exited;
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pid), false);
  });
});
