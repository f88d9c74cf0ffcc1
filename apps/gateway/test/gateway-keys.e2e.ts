import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { entryOf, entryYaml, generateApiKey, grantOf } from '#gateway/auth/api-key-issuing';
import { localModelsYaml, startGateway, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { request } from '#test-support/http-client';

/**
 * A gateway process with a keys file (API_KEYS_FILE) and METRICS_TOKEN over the two shipped models on real engines:
 * the main paths of keys and scopes, as a deployment meets them.
 */
describe('a gateway with API keys over two real engines', () => {
  let gateway: RunningGateway;
  const admin = generateApiKey();
  const scoped = generateApiKey();
  const metricsToken = generateApiKey();
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  before(async () => {
    const keysFile = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.yaml');
    writeFileSync(
      keysFile,
      `keys:\n${entryYaml(entryOf(admin, grantOf('ops', { admin: true })))}\n${entryYaml(
        entryOf(scoped, grantOf('team-qwen', { models: ['qwen2'] })),
      )}\n`,
    );
    gateway = await startGateway(writeModelsConfig(localModelsYaml()), {
      env: { API_KEYS_FILE: keysFile, METRICS_TOKEN: metricsToken },
    });
  });
  after(() => gateway?.stop());

  it('says where its keys come from; the probes answer without a key', async () => {
    assert.ok(
      gateway.process.output.some((line) => /API keys from .*keys\.yaml \(2 keys, reloaded on change\)/.test(line)),
    );
    assert.equal((await request(`${gateway.url}/health/ready`)).status, 200);
    assert.equal((await request(`${gateway.url}/health/live`)).status, 200);
  });

  it('/v1/generate: 401 without a key, 200 in scope (real text), 403 outside it', async () => {
    const body = { model_id: 'qwen2', inputs: 'The king said', parameters: { max_new_tokens: 6 } };
    const missing = await request(`${gateway.url}/v1/generate`, { body });
    assert.equal(missing.status, 401);
    assert.equal(missing.json().error_type, 'unauthorized');
    assert.equal(missing.json().request_id, missing.headers['x-request-id']);

    const served = await request(`${gateway.url}/v1/generate`, { body, headers: auth(scoped) });
    assert.equal(served.status, 200, served.text);
    assert.ok(served.json().generated_text.length > 0);
    assert.ok(served.json().usage?.output_tokens > 0 || served.json().generated_tokens > 0, served.text);

    const outside = await request(`${gateway.url}/v1/generate`, {
      body: { ...body, model_id: 'llama3' },
      headers: { 'x-api-key': scoped },
    });
    assert.equal(outside.status, 403);
    assert.deepEqual(Object.keys(outside.json()).sort(), ['error', 'error_type', 'request_id']);
    assert.equal(outside.json().error_type, 'forbidden');
  });

  it('the openai SDK: chat in scope; PermissionDeniedError outside it; AuthenticationError for a bad key', async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: scoped, maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'qwen2-tiny',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 6,
    });
    assert.equal(answer.model, 'qwen2');
    assert.ok((answer.usage?.completion_tokens ?? 0) > 0);
    await assert.rejects(
      client.chat.completions.create({ model: 'llama3', messages: [{ role: 'user', content: 'Hello' }] }),
      OpenAI.PermissionDeniedError,
    );
    const stranger = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: generateApiKey(), maxRetries: 0 });
    await assert.rejects(stranger.models.list(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.AuthenticationError);
      assert.equal(error.code, 'invalid_api_key');
      return true;
    });
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ['qwen2', 'qwen2-tiny']);
  });

  it('the per-model TGI routes: 200 in scope, 403 in TGI shape outside it', async () => {
    const inScope = await request(`${gateway.url}/models/qwen2/generate`, {
      body: { inputs: 'Once', parameters: { max_new_tokens: 4 } },
      headers: auth(scoped),
    });
    assert.equal(inScope.status, 200, inScope.text);
    assert.equal(typeof inScope.json().generated_text, 'string');
    const outside = await request(`${gateway.url}/models/llama3/generate`, {
      body: { inputs: 'Once' },
      headers: auth(scoped),
    });
    assert.equal(outside.status, 403);
    assert.deepEqual(outside.json(), {
      error: 'the API key "team-qwen" may not use model "llama3"',
      error_type: 'forbidden',
    });
  });

  it('/models: the summary for a plain key; backend address, pid and memory for an admin', async () => {
    const summary = await request(`${gateway.url}/models`, { headers: auth(scoped) });
    assert.deepEqual(summary.json(), {
      models: [{ id: 'qwen2', aliases: ['qwen2-tiny'], state: 'ready', vram_budget_gb: 0 }],
    });
    const full = await request(`${gateway.url}/models`, { headers: auth(admin) });
    assert.equal(full.status, 200);
    const models = full.json().models;
    assert.deepEqual(
      models.map((m: { id: string }) => m.id),
      ['qwen2', 'llama3'],
    );
    for (const model of models) {
      assert.equal(typeof model.backend.pid, 'number');
      assert.match(model.backend.address, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(model.memory.process_rss_bytes > 0);
    }
  });

  it('/metrics answers only with METRICS_TOKEN', async () => {
    assert.equal((await request(`${gateway.url}/metrics`)).status, 401);
    assert.equal((await request(`${gateway.url}/metrics`, { headers: auth(admin) })).status, 401);
    const metrics = await request(`${gateway.url}/metrics`, { headers: auth(metricsToken) });
    assert.equal(metrics.status, 200);
    // The refusals above are counted as the outcomes they are.
    assert.match(metrics.text, /^sluice_requests_total\{model="llama3",outcome="forbidden",route="generate"\} [1-9]/m);
    assert.match(metrics.text, /^sluice_requests_total\{[^}]*outcome="unauthorized"[^}]*\} [1-9]/m);
  });
});
