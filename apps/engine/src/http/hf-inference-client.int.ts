import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InferenceClient } from '@huggingface/inference';
import { assertMatchesTgiSchema } from '#backends/testing';
import { SHIPPED_MODELS, startReadyEngine, type RunningEngine } from '#test-support/engine';
import { postJson, sseData } from '#test-support/http-client';

/** One HTTP exchange of the client, as it went over the wire. */
interface Exchange {
  url: string;
  method: string;
  body: Record<string, unknown>;
  status: number;
  contentType: string;
  responseText: string;
}

/** The client's own fetch, recording what it sends and what comes back (read from a clone, the client reads its own). */
function recordingFetch(exchanges: Exchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    // The client passes the URL as a string and the body as a JSON string.
    exchanges.push({
      url: input as string,
      method: init?.method ?? 'GET',
      body: JSON.parse(init?.body as string) as Record<string, unknown>,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      responseText: await response.clone().text(),
    });
    return response;
  };
}

const PROMPT = 'The king of Israel said to';
/** The OpenAI route samples at temperature 1 unless told otherwise; 0 is its greedy, as /generate's default. */
const GREEDY = { temperature: 0 };
const DETAILS = { details: true, top_n_tokens: 2, decoder_input_details: true };

for (const [name, model] of Object.entries(SHIPPED_MODELS)) {
  describe(`@huggingface/inference pointed straight at the engine, on the shipped ${name} model`, () => {
    let engine: RunningEngine;
    let exchanges: Exchange[];
    let client: InferenceClient;
    /** The engine's own greedy text for the prompt, from TGI's /generate. */
    const greedyText = async (maxNewTokens: number): Promise<string> =>
      (
        await postJson(`${engine.url}/generate`, { inputs: PROMPT, parameters: { max_new_tokens: maxNewTokens } })
      ).json().generated_text;

    before(async () => {
      engine = await startReadyEngine(model);
    });
    after(() => engine?.stop());

    const connect = () => {
      exchanges = [];
      client = new InferenceClient('', { endpointUrl: engine.url, fetch: recordingFetch(exchanges) });
    };

    for (const [what, extra] of [
      ['plain', {}],
      ['with details, top_n_tokens and decoder_input_details', DETAILS],
    ] as const) {
      it(`textGeneration (${what}) posts to /v1/completions and answers the greedy text`, async () => {
        connect();
        const parameters = { max_new_tokens: 12, ...GREEDY, ...extra };
        const output = await client.textGeneration({ inputs: PROMPT, parameters });
        assertMatchesTgiSchema('GenerateResponse', output);
        assert.equal(output.generated_text, await greedyText(12));
        // The client keeps only `choices[0].text` of the OpenAI answer: TGI's details cannot reach it this way.
        assert.equal(output.details, undefined);

        assert.equal(exchanges.length, 1);
        const [exchange] = exchanges;
        assert.equal(exchange!.method, 'POST');
        assert.equal(exchange!.url, `${engine.url}/v1/completions`);
        assert.deepEqual(exchange!.body, {
          model: engine.url,
          prompt: PROMPT,
          max_tokens: 12,
          ...GREEDY,
          ...extra,
        });
        assert.equal(exchange!.status, 200);
        assertMatchesTgiSchema('CompletionFinal', JSON.parse(exchange!.responseText));
      });

      it(`textGenerationStream (${what}) posts to /v1/completions with stream and yields its chunks`, async () => {
        connect();
        const parameters = { max_new_tokens: 12, ...GREEDY, ...extra };
        const events: unknown[] = [];
        for await (const event of client.textGenerationStream({ inputs: PROMPT, parameters })) events.push(event);

        // What the client yields is the OpenAI route's events as they came, not TGI's StreamResponse.
        assert.ok(events.length > 0);
        for (const event of events.slice(0, -1)) assertMatchesTgiSchema('Chunk', event);
        assertMatchesTgiSchema('CompletionFinal', events.at(-1));
        const text = (events as Array<{ choices: Array<{ text: string }> }>).map((e) => e.choices[0]!.text).join('');
        assert.equal(text, await greedyText(12));

        assert.equal(exchanges.length, 1);
        const [exchange] = exchanges;
        assert.equal(exchange!.url, `${engine.url}/v1/completions`);
        assert.deepEqual(exchange!.body, {
          model: engine.url,
          stream: true,
          prompt: PROMPT,
          max_tokens: 12,
          ...GREEDY,
          ...extra,
        });
        assert.match(exchange!.contentType, /^text\/event-stream/);
        assert.equal(sseData(exchange!.responseText).at(-1), '[DONE]');
      });
    }
  });
}
