import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertMatchesTgiSchema } from '#backends/testing';
import {
  assertErrorAnswer,
  assertOpenAiError,
  postGenerate,
  postOpenAi,
  until,
  type InjectedAnswer,
} from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';
import { entryOf, entryYaml, generateApiKey, grantOf, type GrantOptions } from './api-key-issuing.js';

/** A fresh key and its keys-file entry, as `npm run keys -- new` makes them. */
function issue(name: string, options: GrantOptions = {}): { key: string; yaml: string } {
  const key = generateApiKey();
  return { key, yaml: entryYaml(entryOf(key, grantOf(name, options))) };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** TGI's ErrorResponse exactly, with the request id in its header. */
function assertTgiError(answer: InjectedAnswer, status: number, errorType: string): void {
  assert.equal(answer.statusCode, status, answer.body);
  const body = answer.json();
  assertMatchesTgiSchema('ErrorResponse', body);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type']);
  assert.equal(body.error_type, errorType);
  assert.ok(String(answer.headers['x-request-id']).length > 0);
}

describe('API keys: who may call, which models, what /models shows', () => {
  let gateway: InProcessGateway;
  const admin = issue('ops', { admin: true });
  const qwenOnly = issue('team-qwen', { models: ['qwen2-7b'] }); // by alias: it means qwen2
  const everyModel = issue('team-all');
  const revoked = issue('former');
  const keysYaml = (extra = '') =>
    `keys:\n${admin.yaml}\n${qwenOnly.yaml}\n${everyModel.yaml}\n${revoked.yaml}\n    revoked: true\n${extra}`;

  const get = (url: string, headers: Record<string, string> = {}) =>
    gateway.app.inject({ method: 'GET', url, headers });
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    gateway.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });

  before(async () => {
    gateway = await startInProcessGateway({ keysYaml: keysYaml() });
  });
  after(() => gateway?.close());

  it('a missing key is 401 in each dialect, before the body is read, naming the Bearer scheme', async () => {
    const generate = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'a b' });
    assertErrorAnswer(generate, 401, 'unauthorized', /needs an API key/);
    assert.equal(generate.headers['www-authenticate'], 'Bearer realm="sluice"');

    const chat = await postOpenAi(gateway.app, '/v1/chat/completions', { model: 'qwen2', messages: [] });
    assertOpenAiError(chat, 401, 'invalid_api_key', { type: 'invalid_request_error', param: null });

    assertTgiError(await post('/models/qwen2/generate', { inputs: 'a' }), 401, 'unauthorized');
    // Not even a body that would fail validation gets past the key check.
    assertErrorAnswer(await postGenerate(gateway.app, '{not json'), 401, 'unauthorized');
    assertErrorAnswer(await get('/models'), 401, 'unauthorized');
    assertOpenAiError(await get('/v1/models'), 401, 'invalid_api_key');
    assertErrorAnswer(await get('/no/such/route'), 401, 'unauthorized');
    assert.equal(gateway.backend.calls.length, 0);
  });

  it('an unknown key, a revoked key or a malformed header is 401', async () => {
    const body = { model_id: 'qwen2', inputs: 'a b' };
    for (const headers of [
      bearer(generateApiKey()),
      bearer(revoked.key),
      { 'x-api-key': revoked.key },
      { authorization: `Basic ${everyModel.key}` },
      { authorization: `Bearer ${everyModel.key} extra` },
      { authorization: `Bearer ${everyModel.key.slice(0, -1)}` },
    ])
      assertErrorAnswer(await postGenerate(gateway.app, body, headers), 401, 'unauthorized', /not valid|needs/);
    assertOpenAiError(
      await postOpenAi(gateway.app, '/v1/completions', { model: 'qwen2', prompt: 'a' }, bearer(revoked.key)),
      401,
      'invalid_api_key',
    );
  });

  it('a valid key works as Bearer or x-api-key, on every dialect', async () => {
    const viaBearer = await postGenerate(
      gateway.app,
      { model_id: 'llama3', inputs: 'one two' },
      bearer(everyModel.key),
    );
    assert.equal(viaBearer.statusCode, 200, viaBearer.body);
    assert.equal(viaBearer.json().generated_text, ' one two');
    const viaHeader = await postGenerate(
      gateway.app,
      { model_id: 'qwen2', inputs: 'one' },
      { 'x-api-key': qwenOnly.key },
    );
    assert.equal(viaHeader.statusCode, 200, viaHeader.body);
    const chat = await postOpenAi(
      gateway.app,
      '/v1/chat/completions',
      { model: 'qwen2', messages: [{ role: 'user', content: 'x y' }] },
      bearer(qwenOnly.key),
    );
    assert.equal(chat.statusCode, 200, chat.body);
    const tgi = await post('/models/qwen2-7b/generate', { inputs: 'p q' }, bearer(qwenOnly.key));
    assert.equal(tgi.statusCode, 200, tgi.body);
    assert.deepEqual(tgi.json(), { generated_text: ' p q' });
  });

  it("a model outside the key's scope is 403 on every route that names it, in that route's shape", async () => {
    const key = bearer(qwenOnly.key);
    const calls = gateway.backend.calls.length;
    assertErrorAnswer(
      await postGenerate(gateway.app, { model_id: 'llama3', inputs: 'a' }, key),
      403,
      'forbidden',
      /"team-qwen" may not use model "llama3"/,
    );
    // A stream is refused before its 200 goes out.
    assertErrorAnswer(
      await postGenerate(gateway.app, { model_id: 'llama3', inputs: 'a', stream: true }, key),
      403,
      'forbidden',
    );
    for (const stream of [false, true])
      assertOpenAiError(
        await postOpenAi(
          gateway.app,
          '/v1/chat/completions',
          { model: 'llama3', stream, messages: [{ role: 'user', content: 'a' }] },
          key,
        ),
        403,
        'forbidden',
        { param: 'model' },
      );
    assertOpenAiError(
      await postOpenAi(gateway.app, '/v1/completions', { model: 'llama3', prompt: 'a' }, key),
      403,
      'forbidden',
    );
    assertOpenAiError(await get('/v1/models/llama3', key), 403, 'forbidden');
    for (const route of ['generate', 'generate_stream'])
      assertTgiError(await post(`/models/llama3/${route}`, { inputs: 'a' }, key), 403, 'forbidden');
    assertTgiError(await post('/models/llama3', { inputs: 'a' }, key), 403, 'forbidden');
    assertTgiError(await post('/models/llama3/v1/completions', { model: 'tgi', prompt: 'a' }, key), 403, 'forbidden');
    assertTgiError(await get('/models/llama3/info', key), 403, 'forbidden');
    assertTgiError(await get('/models/llama3/health', key), 403, 'forbidden');
    assertErrorAnswer(await get('/models/llama3', key), 403, 'forbidden');
    assert.equal(gateway.backend.calls.length, calls, 'nothing reached a backend');
    // An unknown model is still 404, whatever the scope.
    assertErrorAnswer(await postGenerate(gateway.app, { model_id: 'gpt4', inputs: 'a' }, key), 404, 'model_not_found');
    // Its own model, by id and by alias, on the per-model routes too.
    assert.equal((await get('/models/qwen2/health', key)).statusCode, 200);
    assert.equal((await get('/models/qwen2-7b/info', key)).statusCode, 200);
  });

  it("/v1/models lists only the models in the key's scope (ids and aliases)", async () => {
    const scoped = await get('/v1/models', bearer(qwenOnly.key));
    assert.equal(scoped.statusCode, 200, scoped.body);
    assert.deepEqual(
      scoped
        .json()
        .data.map((m: { id: string }) => m.id)
        .sort(),
      ['qwen2', 'qwen2-7b'],
    );
    assert.equal((await get('/v1/models/qwen2-7b', bearer(qwenOnly.key))).statusCode, 200);
    const all = await get('/v1/models', bearer(everyModel.key));
    assert.deepEqual(
      all
        .json()
        .data.map((m: { id: string }) => m.id)
        .sort(),
      ['llama3', 'qwen2', 'qwen2-7b'],
    );
  });

  it('/models: ids, aliases, state and VRAM budget without the admin scope; backend, pid and memory with it', async () => {
    const scoped = await get('/models', bearer(qwenOnly.key));
    assert.equal(scoped.statusCode, 200, scoped.body);
    assert.deepEqual(scoped.json(), {
      models: [{ id: 'qwen2', aliases: ['qwen2-7b'], state: 'ready', vram_budget_gb: 0 }],
    });
    const plain = await get('/models', bearer(everyModel.key));
    assert.deepEqual(
      plain.json().models.map((m: object) => Object.keys(m).sort()),
      [
        ['aliases', 'id', 'state', 'vram_budget_gb'],
        ['aliases', 'id', 'state', 'vram_budget_gb'],
      ],
    );
    assert.equal(plain.json().gpus, undefined);
    const one = await get('/models/qwen2-7b', { 'x-api-key': everyModel.key });
    assert.deepEqual(one.json(), { id: 'qwen2', aliases: ['qwen2-7b'], state: 'ready', vram_budget_gb: 0 });

    const full = await get('/models', bearer(admin.key));
    assert.equal(full.statusCode, 200, full.body);
    assert.deepEqual(
      full.json().models.map((m: { id: string }) => m.id),
      ['qwen2', 'llama3'],
    );
    for (const model of full.json().models) {
      assert.deepEqual(model.backend, { type: 'tgi', address: 'http://127.0.0.1:9', pid: null });
      assert.ok('memory' in model && 'last_error' in model && 'limits' in model);
    }
    assert.deepEqual(full.json().gpus, []);
    assert.equal((await get('/models/llama3', bearer(admin.key))).json().backend.type, 'tgi');
  });

  it('the probes, /docs and /metrics (no METRICS_TOKEN here) answer without a key', async () => {
    for (const url of ['/health/live', '/health/ready', '/docs/openapi.json', '/metrics']) {
      const answer = await get(url);
      assert.equal(answer.statusCode, 200, `${url}: ${answer.body}`);
    }
  });

  it('the keys file is reloaded when it changes: a revocation and a new key apply without a restart', async () => {
    const late = issue('late-comer');
    // The original file, with team-all revoked and a new key added.
    const edited = keysYaml(`${late.yaml}\n`).replace(
      `${everyModel.yaml}\n`,
      `${everyModel.yaml}\n    revoked: true\n`,
    );
    writeFileSync(gateway.keysFile!, edited);
    const started = Date.now();
    await until(
      async () => (await get('/v1/models', bearer(everyModel.key))).statusCode === 401,
      5000, // KEYS_FILE_POLL_MS is 1 s: twice that and more, for a loaded machine
    );
    const tookMs = Date.now() - started;
    assert.ok(tookMs < 5000, `took ${tookMs} ms`);
    assert.equal((await get('/v1/models', bearer(late.key))).statusCode, 200);

    // A broken edit keeps the keys in force rather than locking everyone out or letting anyone in.
    writeFileSync(gateway.keysFile!, 'keys: [ { name: broken');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal((await get('/v1/models', bearer(late.key))).statusCode, 200);
    assert.equal((await get('/v1/models', bearer(everyModel.key))).statusCode, 401);
    assert.equal((await get('/v1/models')).statusCode, 401);
  });
});

describe('the open routes show a caller without an admin key only what anyone may see', () => {
  let gateway: InProcessGateway;
  const admin = issue('ops', { admin: true });
  const plain = issue('team');

  before(async () => {
    gateway = await startInProcessGateway({ keysYaml: `keys:\n${admin.yaml}\n${plain.yaml}\n` });
    gateway.registry.resolve('llama3')!.markUnhealthy('connect ECONNREFUSED 10.0.0.7:80');
  });
  after(() => gateway?.close());

  it("/health/ready: each model's state for everyone; its last error (which may name a backend) for an admin", async () => {
    const ready = (headers: Record<string, string> = {}) =>
      gateway.app.inject({ method: 'GET', url: '/health/ready', headers });
    for (const headers of [{}, bearer(plain.key), bearer(generateApiKey())]) {
      const answer = await ready(headers);
      assert.equal(answer.statusCode, 503, 'a probe is answered whatever key it shows');
      assert.equal(answer.json().error.llama3.state, 'unhealthy');
      assert.equal(answer.json().error.llama3.last_error, undefined);
      assert.ok(!answer.body.includes('10.0.0.7'));
    }
    const forAdmin = await ready(bearer(admin.key));
    assert.equal(forAdmin.json().error.llama3.last_error, 'connect ECONNREFUSED 10.0.0.7:80');
    const docs = await gateway.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(docs.statusCode, 200);
    assert.match(String(docs.headers['content-type']), /^text\/html/);
  });
});

describe('METRICS_TOKEN puts /metrics behind a Bearer token, keys or not', () => {
  let gateway: InProcessGateway;
  const token = generateApiKey();
  const key = issue('team');

  before(async () => {
    gateway = await startInProcessGateway({ keysYaml: `keys:\n${key.yaml}\n`, env: { METRICS_TOKEN: token } });
  });
  after(() => gateway?.close());

  it('401 without the token, with a wrong one, or with an API key; 200 with it', async () => {
    const get = (headers: Record<string, string> = {}) =>
      gateway.app.inject({ method: 'GET', url: '/metrics', headers });
    assertErrorAnswer(await get(), 401, 'unauthorized', /metrics token/);
    assertErrorAnswer(await get(bearer(`${token}x`)), 401, 'unauthorized');
    assertErrorAnswer(await get(bearer(key.key)), 401, 'unauthorized');
    const answer = await get(bearer(token));
    assert.equal(answer.statusCode, 200, answer.body);
    assert.match(answer.body, /^# HELP /m);
    // The token is no API key.
    const generate = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'a' }, bearer(token));
    assertErrorAnswer(generate, 401, 'unauthorized');
    assert.equal((await gateway.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200);
  });
});

describe('without keys the caller is known by its address and may do everything', () => {
  let gateway: InProcessGateway;
  before(async () => {
    gateway = await startInProcessGateway();
  });
  after(() => gateway?.close());

  it('no key needed; /models shows the admin view; /v1/models every model', async () => {
    const models = await gateway.app.inject({ method: 'GET', url: '/models' });
    assert.equal(models.statusCode, 200);
    assert.equal(models.json().models[0].backend.type, 'tgi');
    const openAi = await gateway.app.inject({ method: 'GET', url: '/v1/models' });
    assert.equal(openAi.json().data.length, 3);
    const generate = await postGenerate(gateway.app, { model_id: 'llama3', inputs: 'a' });
    assert.equal(generate.statusCode, 200, generate.body);
  });
});

describe('AUTH=off serves open even with a keys file set', () => {
  let gateway: InProcessGateway;
  before(async () => {
    gateway = await startInProcessGateway({ keysYaml: `keys:\n${issue('team').yaml}\n`, env: { AUTH: 'off' } });
  });
  after(() => gateway?.close());

  it('no key needed, and the caller is the admin', async () => {
    const generate = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'a' });
    assert.equal(generate.statusCode, 200, generate.body);
    const models = await gateway.app.inject({ method: 'GET', url: '/models' });
    assert.equal(models.json().models[0].backend.type, 'tgi');
  });
});
