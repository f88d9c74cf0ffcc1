import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { entryOf, entryYaml, generateApiKey, grantOf, type GrantOptions } from '../auth/api-key-issuing.js';
import { assertErrorAnswer } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

function issue(name: string, options: GrantOptions = {}): { key: string; yaml: string } {
  const key = generateApiKey();
  return { key, yaml: entryYaml(entryOf(key, grantOf(name, options))) };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('the console with API keys: the page is open, its data needs the admin scope', () => {
  let gateway: InProcessGateway;
  const admin = issue('ops', { admin: true });
  const team = issue('team-all');
  const get = (url: string, headers: Record<string, string> = {}) =>
    gateway.app.inject({ method: 'GET', url, headers });

  before(async () => {
    gateway = await startInProcessGateway({ keysYaml: `keys:\n${admin.yaml}\n${team.yaml}\n` });
  });
  after(() => gateway?.close());

  it('serves the page, its script and its styles without a key, confined to the gateway by their CSP', async () => {
    for (const [url, type] of [
      ['/console', /^text\/html/],
      ['/console/console.js', /^text\/javascript/],
      ['/console/console.css', /^text\/css/],
    ] as const) {
      const answer = await get(url);
      assert.equal(answer.statusCode, 200, `${url}: ${answer.body}`);
      assert.match(String(answer.headers['content-type']), type);
      assert.match(String(answer.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
      assert.ok(answer.body.length > 500, url);
    }
    const page = (await get('/console')).body;
    assert.match(page, /<script type="module" src="\/console\/console.js">/);
    // Nothing from another host: every src and href is the gateway's own (or an inline data: icon).
    for (const [, link] of page.matchAll(/(?:src|href)="([^"]*)"/g)) assert.match(link!, /^(\/console\/|data:)/);
  });

  it('answers GET /console/state 401 without a key, 403 to a key without the admin scope, 200 to an admin', async () => {
    assertErrorAnswer(await get('/console/state'), 401, 'unauthorized');
    assertErrorAnswer(await get('/console/state', bearer(team.key)), 403, 'forbidden', /admin scope/);
    const answer = await get('/console/state', bearer(admin.key));
    assert.equal(answer.statusCode, 200, answer.body);
    assert.equal(answer.headers['cache-control'], 'no-store');
    const state = answer.json();
    assert.deepEqual(
      state.models.map((m: any) => [m.id, m.state]),
      [
        ['qwen2', 'ready'],
        ['llama3', 'ready'],
      ],
    );
    assert.equal(state.window_s, 60);
    assert.equal(state.gateway.dispatch_queue, 'in-process');
  });

  it('shows what GET /models shows an admin, plus the state changes each model went through', async () => {
    const models = (await get('/models', bearer(admin.key))).json();
    const state = (await get('/console/state', bearer(admin.key))).json();
    for (const model of models.models) {
      const shown = state.models.find((m: any) => m.id === model.id);
      for (const field of ['backend', 'quantization', 'vram_budget_gb', 'gpu', 'limits', 'cold_start_ms', 'restarts'])
        assert.deepEqual(shown[field], model[field], `${model.id}.${field}`);
      assert.deepEqual(
        shown.state_changes.map((c: any) => c.to),
        ['loading', 'ready'],
      );
    }
    assert.deepEqual(state.gpus, []);
  });

  it("records a model's fall to unhealthy with its reason, and its recovery", async () => {
    const entry = gateway.registry.resolve('llama3')!;
    entry.markUnhealthy('health check failed: connection refused');
    entry.markReady();
    const state = (await get('/console/state', bearer(admin.key))).json();
    const changes = state.models.find((m: any) => m.id === 'llama3').state_changes.slice(-2);
    assert.deepEqual(
      changes.map((c: any) => [c.from, c.to, c.reason]),
      [
        ['ready', 'unhealthy', 'health check failed: connection refused'],
        ['unhealthy', 'ready', null],
      ],
    );
  });
});

describe('the console without API keys', () => {
  let gateway: InProcessGateway;
  before(async () => {
    gateway = await startInProcessGateway({
      registryYaml: `gpus: [{ id: "0", memory_gb: 12 }]
readiness: { required: all }
models:
  - { id: qwen2, quantization: gptq-int4, vram_budget_gb: 6.8, gpu: "0", backend: { type: tgi, url: "http://127.0.0.1:9" } }
  - { id: llama3, quantization: gptq-int4, vram_budget_gb: 4.5, gpu: "0", backend: { type: tgi, url: "http://127.0.0.1:9" } }
`,
    });
  });
  after(() => gateway?.close());

  it('answers every caller (the gateway then listens on loopback only), with each GPU and the budgets placed on it', async () => {
    const answer = await gateway.app.inject({ method: 'GET', url: '/console/state' });
    assert.equal(answer.statusCode, 200, answer.body);
    const [gpu] = answer.json().gpus;
    assert.equal(gpu.id, '0');
    assert.equal(gpu.memory_gb, 12);
    assert.equal(gpu.vram_budget_gb, 11.3);
    assert.deepEqual(
      gpu.models.map((m: any) => [m.id, m.vram_budget_gb]),
      [
        ['qwen2', 6.8],
        ['llama3', 4.5],
      ],
    );
  });
});
