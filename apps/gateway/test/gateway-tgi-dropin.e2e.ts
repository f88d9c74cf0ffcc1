import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InferenceClientProviderApiError, textGeneration, textGenerationStream } from '@huggingface/inference';
import { assertMatchesTgiSchema, startTgiStandIn, type StandInScript, type TgiStandIn } from '#backends/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureStatsd, parsePrometheusText, type StatsdCapture } from '#metrics/testing';
import { SHIPPED_MODELS, startReadyEngine, type RunningEngine } from '#test-support/engine';
import {
  engineModelsYaml,
  startGateway,
  tgiModelsYaml,
  writeModelsConfig,
  type RunningGateway,
} from '#test-support/gateway';
import { parseSse, postJson, request } from '#test-support/http-client';

const MODELS = [
  { id: 'qwen2', raw: 'Qwen/Qwen2-tiny' },
  { id: 'llama3', raw: 'meta-llama/Llama3-tiny' },
] as const;

/** Greedy, so the engine and the gateway must agree token for token. */
const GREEDY = { max_new_tokens: 10, details: true, top_n_tokens: 3 };

describe('@huggingface/inference and TGI requests against per-model routes over two real engines', () => {
  const engines = {} as Record<'qwen2' | 'llama3', RunningEngine>;
  let gateway: RunningGateway;

  before(async () => {
    engines.qwen2 = await startReadyEngine(SHIPPED_MODELS.qwen2, ['--sequences', '2']);
    engines.llama3 = await startReadyEngine(SHIPPED_MODELS.llama3, ['--sequences', '2']);
    gateway = await startGateway(
      writeModelsConfig(engineModelsYaml({ qwen2: engines.qwen2.url, llama3: engines.llama3.url })),
    );
  });
  after(async () => {
    await gateway?.stop();
    await engines.qwen2?.stop();
    await engines.llama3?.stop();
  });

  it('textGeneration and textGenerationStream, with and without details, give the engine’s greedy text', async () => {
    for (const { id, raw } of MODELS) {
      const direct = (
        await postJson(`${engines[id].url}/generate`, { inputs: 'The king said', parameters: GREEDY })
      ).json();
      for (const endpointUrl of [`${gateway.url}/models/${id}`, `${gateway.url}/models/${raw}`]) {
        for (const parameters of [
          { max_new_tokens: 10, temperature: 0 },
          { ...GREEDY, temperature: 0 },
        ]) {
          const plain = await textGeneration({ endpointUrl, inputs: 'The king said', parameters });
          assert.equal(plain.generated_text, direct.generated_text, `${endpointUrl} ${JSON.stringify(parameters)}`);

          let streamed = '';
          for await (const chunk of textGenerationStream({ endpointUrl, inputs: 'The king said', parameters })) {
            // The client yields the events as the route sends them: OpenAI's completion chunks, as TGI's /v1/completions.
            const { choices } = chunk as unknown as { choices: Array<{ text: string }> };
            streamed += choices[0]?.text ?? '';
          }
          assert.equal(streamed, direct.generated_text);
        }
      }
    }
  });

  it('the same TGI request straight to the engine and through /models/{id}/... returns the same tokens, texts and logprobs', async () => {
    for (const { id, raw } of MODELS) {
      const body = { inputs: 'Once upon a time', parameters: GREEDY };
      const direct = (await postJson(`${engines[id].url}/generate`, body)).json();
      assertMatchesTgiSchema('GenerateResponse', direct);
      for (const model of [id, encodeURIComponent(raw)]) {
        const viaGateway = await postJson(`${gateway.url}/models/${model}/generate`, body);
        assert.equal(viaGateway.status, 200, viaGateway.text);
        assertMatchesTgiSchema('GenerateResponse', viaGateway.json());
        assert.deepEqual(viaGateway.json(), direct);

        const compat = await postJson(`${gateway.url}/models/${model}`, body);
        assert.deepEqual(compat.json(), [direct]);

        const directEvents = parseSse((await postJson(`${engines[id].url}/generate_stream`, body)).text);
        const gatewayEvents = parseSse((await postJson(`${gateway.url}/models/${model}/generate_stream`, body)).text);
        gatewayEvents.forEach((event) => assertMatchesTgiSchema('StreamResponse', event));
        assert.deepEqual(gatewayEvents, directEvents);
        const compatEvents = parseSse(
          (await postJson(`${gateway.url}/models/${model}`, { ...body, stream: true })).text,
        );
        assert.deepEqual(compatEvents, directEvents);
      }
      // /v1/generate relays the same details beside its own fields.
      const own = (await postJson(`${gateway.url}/v1/generate`, { model_id: id, ...body })).json();
      assert.equal(own.generated_text, direct.generated_text);
      assert.deepEqual(own.details, direct.details);
    }
  });

  // The gateway asks the backend for its one-answer /generate (`route: 'generate'`): TGI has no prefill on streams.
  it("decoder_input_details: the prompt's logprobs (prefill) as the engine's /generate answers them", async () => {
    for (const { id } of MODELS) {
      const body = { inputs: 'Once upon a time', parameters: { ...GREEDY, decoder_input_details: true } };
      const direct = (await postJson(`${engines[id].url}/generate`, body)).json();
      assert.ok(direct.details.prefill.length > 0);
      const viaGateway = await postJson(`${gateway.url}/models/${id}/generate`, body);
      assert.equal(viaGateway.status, 200, viaGateway.text);
      assert.deepEqual(viaGateway.json(), direct);
    }
  });

  it("/info and /health per model are the engine's; bad input gets TGI's 422, also through the client", async () => {
    const info = await request(`${gateway.url}/models/qwen2/info`);
    assertMatchesTgiSchema('Info', info.json());
    assert.deepEqual(info.json(), (await request(`${engines.qwen2.url}/info`)).json());
    assert.equal((await request(`${gateway.url}/models/llama3/health`)).status, 200);

    const refused = await postJson(`${gateway.url}/models/qwen2/generate`, {
      inputs: 'x',
      parameters: { temperature: -1 },
    });
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.json(), {
      error: 'Input validation error: `temperature` must be strictly positive',
      error_type: 'validation',
    });
    // The engine's own refusal (the prompt past its window), relayed as TGI's 422.
    const tooLong = await postJson(`${gateway.url}/models/qwen2/generate`, {
      inputs: 'word '.repeat(3000),
      parameters: { max_new_tokens: 4 },
    });
    assert.equal(tooLong.status, 422, tooLong.text);
    assert.equal(tooLong.json().error_type, 'validation');

    await assert.rejects(
      textGeneration({ endpointUrl: `${gateway.url}/models/qwen2`, inputs: 'x', parameters: { max_new_tokens: 999 } }),
      (error: unknown) =>
        error instanceof InferenceClientProviderApiError &&
        error.httpResponse.status === 422 &&
        /above the ceiling/.test(error.message),
    );
  });

  it('counts per-model requests on the request counter with route="tgi"', async () => {
    const samples = parsePrometheusText((await request(`${gateway.url}/metrics`)).text);
    const count = (outcome: string) =>
      [...samples]
        .filter(([name]) => name.startsWith('sluice_requests_total{') && name.includes('route="tgi"'))
        .filter(([name]) => name.includes(`outcome="${outcome}"`))
        .reduce((sum, [, value]) => sum + value, 0);
    assert.ok(count('ok') >= 30, `ok: ${count('ok')}`);
    assert.ok(count('validation') >= 3, `validation: ${count('validation')}`);
  });
});

/** The stand-in's misbehaviour, chosen by the request's `inputs`. */
function scriptFor(body: unknown): StandInScript {
  switch ((body as { inputs?: string }).inputs) {
    case 'overloaded':
      return { overloaded: true };
    case 'fail midway':
      return { tokens: ['one', ' two', ' three'], errorAfterTokens: { tokens: 2, errorType: 'generation' } };
    case 'refuse':
      return {
        httpError: { status: 422, body: { error: 'Input validation error: too long', error_type: 'validation' } },
      };
    default:
      return { tokens: ['The', ' king', ' said'] };
  }
}

describe("TGI's errors and the guide's StatsD keys through a per-model route, from a TGI backend (stand-in)", () => {
  let standIn: TgiStandIn;
  let gateway: RunningGateway;
  let statsd: StatsdCapture;

  before(async () => {
    standIn = await startTgiStandIn({ script: (request) => scriptFor(request.body) });
    statsd = await captureStatsd();
    gateway = await startGateway(writeModelsConfig(tgiModelsYaml(standIn.url)), {
      env: { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(statsd.port) },
    });
  });
  after(async () => {
    await gateway?.stop();
    await standIn?.close();
    await statsd?.close();
  });

  it("overloaded is TGI's 429 with Retry-After, a refusal TGI's 422, a failure mid-stream TGI's generation event", async () => {
    const url = `${gateway.url}/models/Qwen2-7B-Instruct-GPTQ-Int4`;
    const overloaded = await postJson(`${url}/generate`, { inputs: 'overloaded' });
    assert.equal(overloaded.status, 429);
    assert.equal(overloaded.json().error_type, 'overloaded');
    assert.match(String(overloaded.headers['retry-after']), /^\d+$/);
    assertMatchesTgiSchema('ErrorResponse', overloaded.json());

    const refused = await postJson(url, { inputs: 'refuse' });
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.json(), { error: 'Input validation error: too long', error_type: 'validation' });

    const midway = await postJson(`${url}/generate_stream`, { inputs: 'fail midway' });
    assert.equal(midway.status, 200);
    const events = parseSse(midway.text);
    assert.deepEqual(
      events.slice(0, -1).map((e) => e.token.text),
      ['one', ' two'],
    );
    assert.equal(events.at(-1).error_type, 'generation');
    assert.deepEqual(Object.keys(events.at(-1)).sort(), ['error', 'error_type']);

    const failed = await postJson(`${url}/generate`, { inputs: 'fail midway' });
    assert.equal(failed.status, 424);
    assert.equal(failed.json().error_type, 'generation');

    await assert.rejects(
      textGeneration({ endpointUrl: url, inputs: 'overloaded' }),
      (error: unknown) => error instanceof InferenceClientProviderApiError && error.httpResponse.status === 429,
    );
  });

  it("counts these requests in the guide's StatsD keys like any other: totals, per model, tokens, errors by type", async () => {
    const url = `${gateway.url}/models/qwen2`;
    const answers = [
      (await postJson(`${url}/generate`, { inputs: 'hello', parameters: { details: true } })).json(),
      (await postJson(url, { inputs: 'hello', parameters: { details: true } })).json()[0],
    ];
    const streamed = parseSse(
      (await postJson(`${url}/generate_stream`, { inputs: 'hello', parameters: { details: true } })).text,
    );
    assert.equal((await postJson(`${gateway.url}/models/gpt-9/generate`, { inputs: 'hello' })).status, 404);
    // The first case's five refusals, these three answers and the unknown model.
    const sent = 9;
    const deadline = Date.now() + 5000;
    while (statsd.counter('requests.total') < sent && Date.now() < deadline) await sleep(100);
    await sleep(1200);
    assert.equal(statsd.counter('requests.total'), sent);
    assert.equal(statsd.timings('request.latency').length, sent);
    assert.equal(statsd.counter('requests.model.qwen2'), sent - 1, 'all but the unknown model');
    assert.ok(![...statsd.keys()].some((key) => key.includes('gpt-9') || key.includes('gpt_9')));
    const output =
      answers.reduce((sum, answer) => sum + answer.details.generated_tokens, 0) +
      streamed.at(-1).details.generated_tokens;
    assert.equal(statsd.counter('requests.model.qwen2.output_tokens'), output);
    assert.equal(statsd.counter('requests.errors.overloaded'), 2);
    assert.equal(statsd.counter('requests.errors.validation'), 1);
    assert.equal(statsd.counter('requests.errors.upstream'), 2);
    assert.equal(statsd.counter('requests.errors.model_not_found'), 1);
  });
});
