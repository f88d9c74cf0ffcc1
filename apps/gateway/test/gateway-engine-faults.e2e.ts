import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, slowTestModel } from '#test-support/engine';
import { modelView, slowEnginesConfig, startGateway, waitForModel, type RunningGateway } from '#test-support/gateway';
import { processAlive as alive } from '#test-support/processes';
import { openStream, postJson, request } from '#test-support/http-client';

/** One local model at `modelPath`, with timeouts long enough that none of them is what ends a test's request. */
const oneLocalModel = (modelPath: string) =>
  slowEnginesConfig(
    { llama3: modelPath },
    { defaultMaxNewTokens: 16, timeouts: { first_byte_ms: 20000, inter_token_ms: 20000, total_ms: 30000 } },
  );

const hello = { model_id: 'llama3', inputs: 'Hello', parameters: { max_new_tokens: 4 } };

describe('an engine that hangs without exiting (SIGSTOP)', () => {
  let gateway: RunningGateway;
  const stoppedPids: number[] = [];

  before(async () => {
    gateway = await startGateway(oneLocalModel(slowTestModel()), {
      // 3 probes of at most 300 ms, 200 ms apart: replaced within about 2 s, long before any request timeout.
      env: {
        HEALTH_POLL_MS: '200',
        HEALTH_TIMEOUT_MS: '300',
        ENGINE_WATCHDOG_FAILURES: '3',
        ENGINE_KILL_GRACE_MS: '500',
      },
    });
  });
  after(async () => {
    for (const pid of stoppedPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await gateway?.stop();
  });

  it('is replaced: its in-flight stream fails at once with one clear error, and the model serves again', async (t) => {
    const {
      backend: { pid },
    } = await modelView(gateway.url, 'llama3');
    let stoppedAt = 0;
    const stream = openStream(
      `${gateway.url}/v1/generate`,
      { model_id: 'llama3', inputs: 'The', stream: true, parameters: { max_new_tokens: 400 } },
      (event) => {
        if (event.index === 1 && !stoppedAt) {
          stoppedAt = performance.now();
          stoppedPids.push(pid);
          process.kill(pid, 'SIGSTOP');
        }
      },
    );
    const { status, events } = await stream.done;
    const endedAfterMs = performance.now() - stoppedAt;
    assert.equal(status, 200);
    const last = events.at(-1);
    assert.equal(last.error_type, 'unavailable', JSON.stringify(last));
    assert.match(last.error, /stopped answering and is being replaced/);
    assert.equal(events.filter((event) => event.error !== undefined).length, 1, 'one error event, no more');
    assert.ok(endedAfterMs < 5000, `the stream ended ${Math.round(endedAfterMs)} ms after the hang (inter_token 20 s)`);
    t.diagnostic(`stream ended ${Math.round(endedAfterMs)} ms after SIGSTOP`);

    // Meanwhile the model is unhealthy: a new request is refused at once, not sent to wait on the frozen engine.
    const refusedAt = performance.now();
    const refused = await postJson(`${gateway.url}/v1/generate`, hello);
    if (refused.status !== 200) {
      assert.equal(refused.status, 503, refused.text);
      assert.ok(performance.now() - refusedAt < 1000);
    }

    const recovered = await waitForModel(gateway.url, 'llama3', (v) => v.state === 'ready' && v.restarts >= 1, 30_000);
    assert.notEqual(recovered.backend.pid, pid);
    assert.match(recovered.last_error.message, /engine replaced: pid \d+ failed 3 health checks in a row/);
    assert.match(recovered.last_error.message, /SIGKILL/, 'a stopped process ignores SIGTERM: SIGKILL after the grace');
    assert.equal(alive(pid), false, 'the hung process is gone');
    const served = await postJson(`${gateway.url}/v1/generate`, hello);
    assert.equal(served.status, 200, served.text);
  });
});

describe('a model whose file is missing or refused', () => {
  let gateway: RunningGateway;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-model-file-'));
  const modelPath = join(dir, 'llama3.gguf');

  before(async () => {
    gateway = await startGateway(oneLocalModel(modelPath), {
      waitReady: false,
      env: { MODEL_FILE_RETRY_MS: '300' },
    });
  });
  after(() => gateway?.stop());

  it('is failed with the reason at once; its requests get 503 with it in under 100 ms', async (t) => {
    const view = await waitForModel(gateway.url, 'llama3', (v) => v.state === 'failed', 5000);
    assert.match(view.last_error.message, /llama3\.gguf: cannot read the file: .*ENOENT/);
    assert.equal(view.backend.pid, null, 'no engine runs for a file that is not there');

    for (let i = 0; i < 3; i++) {
      const startedAt = performance.now();
      const res = await postJson(`${gateway.url}/v1/generate`, hello);
      const tookMs = performance.now() - startedAt;
      assert.equal(res.status, 503, res.text);
      assert.equal(res.json().error_type, 'unavailable');
      assert.match(res.json().error, /model "llama3" cannot load its model file: .*ENOENT/);
      assert.ok(res.headers['retry-after'], 'a Retry-After');
      assert.ok(tookMs < 100, `answered in ${Math.round(tookMs)} ms`);
      t.diagnostic(`503 in ${tookMs.toFixed(1)} ms`);
    }
    const ready = await request(`${gateway.url}/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal(ready.json().details.llama3.state, 'failed');
    // Gauges are sampled once a second.
    const deadline = Date.now() + 5000;
    let metrics = '';
    while (!metrics.includes('sluice_model_state{model="llama3",state="failed"} 1') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      metrics = (await request(`${gateway.url}/metrics`)).text;
    }
    assert.match(metrics, /sluice_model_state\{model="llama3",state="failed"\} 1/);
    assert.match(metrics, /sluice_model_state\{model="llama3",state="loading"\} 0/);
  });

  it('shows the new reason when the file is there but refused (bad magic)', async () => {
    writeFileSync(`${modelPath}.part`, Buffer.from('not a gguf file at all, just text'));
    renameSync(`${modelPath}.part`, modelPath);
    const view = await waitForModel(gateway.url, 'llama3', (v) => /magic/i.test(v.last_error?.message ?? ''), 5000);
    assert.equal(view.state, 'failed');
  });

  it('serves once the file is fixed, without a restart of the gateway', async (t) => {
    const fixedAt = performance.now();
    copyFileSync(`${REPO_ROOT}models/llama3-tiny-q8_0.gguf`, `${modelPath}.part`);
    renameSync(`${modelPath}.part`, modelPath);
    const view = await waitForModel(gateway.url, 'llama3', (v) => v.state === 'ready', 30_000);
    t.diagnostic(`ready ${Math.round(performance.now() - fixedAt)} ms after the file was fixed`);
    assert.ok(view.cold_start_ms > 0);
    const res = await postJson(`${gateway.url}/v1/generate`, hello);
    assert.equal(res.status, 200, res.text);
  });
});
