import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, SHIPPED_MODELS } from '#test-support/engine';
import { modelView, startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { postJson } from '#test-support/http-client';
import { processAlive as alive } from '#test-support/processes';

/**
 * `type: process`: the engine started through its own generic command line (no IPC channel, nothing the gateway
 * reads from its log): the gateway fills in its port and model path, learns readiness from its health route, restarts
 * it when it dies and stops it when the gateway stops.
 */
function processModelConfig(program = process.execPath): string {
  return writeModelsConfig(`gpus: []
readiness: { required: all }
defaults:
  max_concurrent: 2
  max_queued: 16
  max_new_tokens: 64
  default_max_new_tokens: 8
  timeouts: { connect_ms: 1000, first_byte_ms: 20000, inter_token_ms: 10000, total_ms: 30000, startup_ms: 60000 }
models:
  - id: llama3
    quantization: gguf-q8_0
    backend:
      type: process
      command: [${program}, ${REPO_ROOT}dist/apps/engine/src/main.js, --model, "\${MODEL_PATH}", --port, "\${PORT}", --threads, "1", --context-size, "512"]
      model_path: ${SHIPPED_MODELS.llama3}
      health: /health
      stop_signal: SIGTERM
      protocol: tgi
  - id: qwen2
    quantization: gguf-q8_0
    backend:
      type: process
      command: [${program}, ${REPO_ROOT}dist/apps/engine/src/main.js, --model, "\${MODEL_PATH}", --model-id, qwen2, --port, "\${PORT}", --context-size, "512"]
      model_path: ${SHIPPED_MODELS.qwen2}
      protocol: openai
      model: qwen2
`);
}

const hello = { model_id: 'llama3', inputs: 'Hello', parameters: { max_new_tokens: 4 } };

describe('a process backend running the engine from its command line', () => {
  let gateway: RunningGateway;
  const pids: number[] = [];

  before(async () => {
    gateway = await startGateway(processModelConfig());
  });
  after(async () => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await gateway?.stop();
  });

  it('is started on the port it was given, ready by its health route, and serves', async () => {
    const view = await modelView(gateway.url, 'llama3');
    assert.equal(view.state, 'ready');
    assert.equal(view.backend.type, 'process');
    assert.match(view.backend.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(view.backend.pid > 0);
    pids.push(view.backend.pid);
    assert.ok(view.cold_start_ms > 0, 'its cold start is measured');
    const served = await postJson(`${gateway.url}/v1/generate`, hello);
    assert.equal(served.status, 200, served.text);
    assert.ok(served.json().generated_text.length > 0);
    // Its output reaches the gateway's log, line by line, prefixed with the model id.
    await gateway.process.waitForLine(/^\[llama3\] /, 5000);
  });

  it("speaks OpenAI's protocol to it with protocol: openai (the engine serves /v1/completions too)", async () => {
    const view = await modelView(gateway.url, 'qwen2');
    assert.equal(view.state, 'ready');
    pids.push(view.backend.pid);
    const served = await postJson(`${gateway.url}/v1/generate`, { ...hello, model_id: 'qwen2' });
    assert.equal(served.status, 200, served.text);
    assert.ok(served.json().usage.output_tokens > 0);
  });

  it('is restarted after SIGKILL, on a new process, and serves again', async () => {
    const { backend } = await modelView(gateway.url, 'llama3');
    process.kill(backend.pid, 'SIGKILL');
    const recovered = await waitForModel(
      gateway.url,
      'llama3',
      (v) => v.state === 'ready' && v.restarts >= 1 && v.backend.pid !== backend.pid,
      30_000,
    );
    pids.push(recovered.backend.pid);
    assert.match(recovered.last_error.message, /server process died \(signal SIGKILL\)/);
    assert.equal(alive(backend.pid), false);
    const served = await postJson(`${gateway.url}/v1/generate`, hello);
    assert.equal(served.status, 200, served.text);
  });

  it('is stopped with the gateway: no process is left behind', async () => {
    const { backend } = await modelView(gateway.url, 'llama3');
    await gateway.stop();
    const deadline = Date.now() + 5000;
    while (alive(backend.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(backend.pid), false, `pid ${backend.pid} still runs after the gateway stopped`);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still runs`);
  });
});

describe('a gateway killed with SIGKILL', () => {
  it('leaves no process server behind: its guard stops the server when the gateway is gone', async () => {
    const gateway = await startGateway(processModelConfig());
    const servers = await Promise.all(
      ['llama3', 'qwen2'].map(async (id) => (await modelView(gateway.url, id)).backend.pid),
    );
    try {
      gateway.process.child.kill('SIGKILL');
      await gateway.process.exited;
      const deadline = Date.now() + 10_000;
      while (servers.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const pid of servers) assert.equal(alive(pid), false, `server pid ${pid} outlived its gateway`);
    } finally {
      for (const pid of servers) if (alive(pid)) process.kill(pid, 'SIGKILL');
      await gateway.stop();
    }
  });
});

describe('a process backend whose program does not exist', () => {
  let gateway: RunningGateway;

  before(async () => {
    gateway = await startGateway(processModelConfig('/nonexistent/server'), {
      waitReady: false,
      env: { MODEL_FILE_RETRY_MS: '300' },
    });
  });
  after(() => gateway?.stop());

  it('is failed with the reason, and its requests get 503 with it', async () => {
    const view = await waitForModel(gateway.url, 'llama3', (v) => v.state === 'failed', 5000);
    assert.match(view.last_error.message, /cannot run \/nonexistent\/server: .*ENOENT/);
    const refused = await postJson(`${gateway.url}/v1/generate`, hello);
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.json().error, /cannot run \/nonexistent\/server/);
  });
});
