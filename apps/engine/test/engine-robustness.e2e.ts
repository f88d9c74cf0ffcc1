import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isServerProcessMessage } from '#backends';
import { assertMatchesTgiSchema } from '#backends/testing';
import {
  SHIPPED_MODELS,
  slowTestModel,
  startEngine,
  startReadyEngine,
  waitUntilIdle,
  type RunningEngine,
} from '#test-support/engine';
import { openStream, parseSse, postJson, postLargeBody, request } from '#test-support/http-client';

function assertValidationError(res: { status: number; json(): any }, message?: RegExp) {
  assert.equal(res.status, 422);
  const body = res.json();
  assertMatchesTgiSchema('ErrorResponse', body);
  assert.equal(body.error_type, 'validation');
  if (message) assert.match(body.error, message);
}

describe('engine input validation', () => {
  let engine: RunningEngine;
  before(async () => {
    engine = await startReadyEngine(SHIPPED_MODELS.llama3);
  });
  after(() => engine?.stop());
  const post = (rawBody: string, path = '/generate') =>
    request(`${engine.url}${path}`, { method: 'POST', rawBody, headers: { 'content-type': 'application/json' } });

  it('answers malformed JSON with 422 JSON, on every route', async () => {
    for (const path of ['/generate', '/generate_stream', '/', '/tokenize']) {
      assertValidationError(await post('{"inputs": "x",', path), /parse the request body as JSON/);
      assertValidationError(await post('', path));
    }
  });

  it('answers wrong types, out-of-range values, unknown fields and empty inputs with 422 JSON', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ inputs: 5 }, /`inputs` must be a string/],
      [{ inputs: '' }, /`inputs` cannot be empty/],
      [{}, /missing field `inputs`/],
      [[], /JSON object/],
      [{ inputs: 'x', parameters: { temperature: 'warm' } }, /`temperature` must be a number/],
      [{ inputs: 'x', parameters: { temperature: -0.5 } }, /strictly positive/],
      [{ inputs: 'x', parameters: { top_p: 1.5 } }, /`top_p` must be > 0.0 and < 1.0/],
      [{ inputs: 'x', parameters: { top_k: -3 } }, /`top_k` must be strictly positive/],
      [{ inputs: 'x', parameters: { max_new_tokens: 0 } }, /`max_new_tokens` must be strictly positive/],
      [{ inputs: 'x', parameters: { max_new_tokens: 100000 } }, /`inputs` tokens \+ `max_new_tokens` must be <=/],
      [{ inputs: 'x', parameters: { stop: ['a', 'b', 'c', 'd', 'e'] } }, /up to 4 stop sequences/],
      [{ inputs: 'x', parameters: { max_tokens: 5 } }, /unknown field `parameters.max_tokens`/],
      [{ inputs: 'x', extra: true }, /unknown field `extra`/],
      [{ inputs: 'word '.repeat(5000) }, /`inputs` must have less than \d+ tokens/],
    ];
    for (const [body, message] of cases) assertValidationError(await postJson(`${engine.url}/generate`, body), message);
    assert.equal((await request(`${engine.url}/health`)).status, 200, 'still healthy after all that');
    const metrics = (await request(`${engine.url}/metrics`)).text;
    assert.ok(
      Number(metrics.match(/^tgi_request_failure\{err="validation"\} (\d+)/m)?.[1]) >= cases.length,
      'refusals are counted',
    );
  });

  it('reports validation errors inside a 200 event stream on /generate_stream, as TGI does', async () => {
    const res = await postJson(`${engine.url}/generate_stream`, { inputs: 'x', parameters: { temperature: 0 } });
    assert.equal(res.status, 200);
    const [event, ...rest] = parseSse(res.text);
    assertMatchesTgiSchema('ErrorResponse', event);
    assert.equal(event.error_type, 'validation');
    assert.equal(rest.length, 0);
    const prefill = parseSse(
      (await postJson(`${engine.url}/generate_stream`, { inputs: 'x', parameters: { decoder_input_details: true } }))
        .text,
    );
    assert.match(prefill[0].error, /not supported when streaming/);
  });

  it('refuses a body over the payload limit with 413 JSON and a wrong media type with 415 JSON', async () => {
    const big = await postLargeBody(
      `${engine.url}/generate`,
      Buffer.from(JSON.stringify({ inputs: 'x'.repeat(10 * 1024 * 1024) })),
    );
    assert.equal(big.status, 413);
    assert.equal(big.json().error_type, 'validation');
    const text = await request(`${engine.url}/generate`, {
      method: 'POST',
      rawBody: 'inputs=x',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.status, 415);
    assert.equal(text.json().error_type, 'validation');
  });

  it('answers unknown routes with 404 JSON', async () => {
    const res = await request(`${engine.url}/v2/nothing`);
    assert.equal(res.status, 404);
    assert.equal(res.json().error_type, 'not_found');
  });
});

describe('engine concurrency: overload and client aborts', () => {
  let engine: RunningEngine;
  const long = { inputs: 'The', parameters: { max_new_tokens: 400 } };

  before(async () => {
    engine = await startReadyEngine(slowTestModel(), [
      '--sequences',
      '1',
      '--max-concurrent-requests',
      '2',
      '--context-size',
      '512',
    ]);
  });
  after(() => engine?.stop());
  beforeEach(() => waitUntilIdle(engine.url));

  it('answers 429 "Model is overloaded" past max_concurrent_requests, in JSON and inside streams', async () => {
    const first = openStream(`${engine.url}/generate_stream`, long, () => {});
    const second = openStream(`${engine.url}/generate_stream`, long, () => {});
    await new Promise((r) => setTimeout(r, 200));
    const refused = await postJson(`${engine.url}/generate`, long);
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.json(), { error: 'Model is overloaded', error_type: 'overloaded' });
    const streamRefused = parseSse((await postJson(`${engine.url}/generate_stream`, long)).text);
    assert.deepEqual(streamRefused, [{ error: 'Model is overloaded', error_type: 'overloaded' }]);
    first.abort();
    second.abort();
    await Promise.all([first.done, second.done]);
  });

  it('frees the sequence when a streaming client disconnects: the next request is served at once', async () => {
    // How long a full generation takes, to compare against.
    const t0 = performance.now();
    const full = await postJson(`${engine.url}/generate`, {
      inputs: 'The',
      parameters: { max_new_tokens: 200, details: true },
    });
    const fullMs = performance.now() - t0;
    assert.equal(full.json().details.generated_tokens, 200);

    let aborted = false;
    const stream = openStream(
      `${engine.url}/generate_stream`,
      { inputs: 'The', parameters: { max_new_tokens: 480 } },
      (event) => {
        if (event.index === 3 && !aborted) {
          aborted = true;
          stream.abort();
        }
      },
    );
    await stream.done;
    const t1 = performance.now();
    const next = await postJson(`${engine.url}/generate`, { inputs: 'The', parameters: { max_new_tokens: 5 } });
    const nextMs = performance.now() - t1;
    assert.equal(next.status, 200);
    assert.ok(
      nextMs < fullMs / 4,
      `next request took ${nextMs.toFixed(0)} ms; a 200-token generation takes ${fullMs.toFixed(0)} ms`,
    );
    const metrics = (await request(`${engine.url}/metrics`)).text;
    assert.match(metrics, /tgi_request_failure\{err="cancelled"\} [1-9]/);
  });

  it('frees the sequence when a non-streaming client disconnects', async () => {
    const hangUp = openStream(
      `${engine.url}/generate`,
      { inputs: 'The', parameters: { max_new_tokens: 480 } },
      () => {},
    );
    await new Promise((r) => setTimeout(r, 150));
    hangUp.abort();
    await hangUp.done;
    const t1 = performance.now();
    const next = await postJson(`${engine.url}/generate`, { inputs: 'The', parameters: { max_new_tokens: 5 } });
    assert.equal(next.status, 200);
    assert.ok(performance.now() - t1 < 1500);
  });
});

describe('engine refusing bad GGUF files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-gguf-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function assertRefused(path: string, reason: RegExp) {
    const engine = await startEngine(path);
    try {
      const failed = await engine.process.waitForMessage((m) => isServerProcessMessage(m, 'failed'));
      assert.match(failed.reason, reason);
      const health = await request(`${engine.url}/health`);
      assert.equal(health.status, 503);
      assert.match(health.json().error, reason);
      const generate = await postJson(`${engine.url}/generate`, { inputs: 'x' });
      assert.equal(generate.status, 503);
      assert.match(generate.json().error, /failed to load/);
      assert.equal(engine.process.child.exitCode, null, 'the engine process lives on');
    } finally {
      await engine.stop();
    }
  }

  it('refuses a truncated file and stays up', async () => {
    const bytes = readFileSync(SHIPPED_MODELS.llama3);
    const path = join(dir, 'truncated.gguf');
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assertRefused(path, /past the end|truncated|beyond/i);
  });

  it('refuses a file that is not GGUF at all and stays up', async () => {
    const path = join(dir, 'text.gguf');
    writeFileSync(path, 'this is not a model\n'.repeat(100));
    await assertRefused(path, /magic|not a GGUF/i);
  });

  it('refuses a missing file and stays up', async () => {
    await assertRefused(join(dir, 'absent.gguf'), /ENOENT|no such file|not found|cannot open/i);
  });

  it('serves a valid copy of the same model (the refusals are about the files)', async () => {
    const path = join(dir, 'copy.gguf');
    copyFileSync(SHIPPED_MODELS.llama3, path);
    const engine = await startReadyEngine(path);
    await engine.stop();
  });
});

describe('engine under a parent process', () => {
  it('reports its address and its load over the IPC channel, and a SIGTERM still ends it cleanly', async () => {
    const engine = await startReadyEngine(SHIPPED_MODELS.llama3);
    await engine.process.waitForMessage((m) => isServerProcessMessage(m, 'ready'));
    assert.deepEqual(
      engine.process.messages.map((m: any) => m.type),
      ['listening', 'ready'],
    );
    assert.equal((engine.process.messages[0] as any).url, engine.url);
    engine.process.child.kill('SIGTERM');
    assert.deepEqual(await engine.process.exited, { code: 0, signal: null });
  });
});
