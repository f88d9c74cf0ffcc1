import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { apiDialectOf } from './error-responses.js';
import type { InjectedAnswer } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * Property-based fuzzing of the three generation routes through the gateway's real pipeline (Fastify, hooks, the
 * validation pipe, the exception filter, the dispatch queue), in process against the scripted backend so that
 * thousands of requests run in seconds: whatever the body, method, content type or headers, the answer is never a
 * 5xx, always JSON (or the stream a 200 asked for) in the route's documented shape, always with x-request-id.
 */

/** Inputs the scripted backend reads as scripts (fail, crash, hold...): its 5xx are scripted, not the gateway's. */
const SCRIPTS = new Set(['fail', 'fail-midstream', 'timeout', 'overloaded', 'refused', 'backend-422', 'crash', 'hold']);

const ROUTES = ['/v1/generate', '/v1/chat/completions', '/v1/completions'] as const;
type Route = (typeof ROUTES)[number];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }), // lone surrogates included
  fc.constantFrom('', ' ', '\u0000', '😀'.repeat(50), '光合作用的原理是什么？', 'a'.repeat(3000)),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1e308, -1e308, 2 ** 53 + 1, 5e-324, 0.5, 128, 512, 4096, 1e21),
);
/** Any JSON value, nesting included, and values of the wrong type for every field. */
const anything = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(text, number, fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 6 }) },
);
const model = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('qwen2', 'llama3', 'qwen2-7b') },
  { weight: 1, arbitrary: fc.constantFrom('gpt-4', '') },
  { weight: 1, arbitrary: text },
);
const prompt = text.filter((value) => !SCRIPTS.has(value) && !SCRIPTS.has(value.split(' ').at(-1) ?? ''));

/**
 * A record of `known` fields, the `required` ones always there, the others present or not, each mostly of the right
 * kind and sometimes anything; now and then with unknown fields too.
 */
function someOf(
  known: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = [],
): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(known).map(([key, right]) => [
      key,
      fc.oneof({ weight: 5, arbitrary: right }, { weight: 1, arbitrary: anything }),
    ]),
  );
  return fc
    .tuple(
      fc.record(fields, { requiredKeys: required }),
      fc.oneof(
        { weight: 6, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: fc.dictionary(text, anything, { maxKeys: 3 }) },
      ),
    )
    .map(([record, unknown]) => ({ ...unknown, ...record }));
}

const sampling = {
  max_new_tokens: fc.integer({ min: -5, max: 600 }),
  temperature: number,
  top_p: number,
  top_k: fc.integer({ min: -2, max: 100 }),
  stop: fc.array(text, { maxLength: 6 }),
  seed: number,
  details: fc.boolean(),
  do_sample: fc.boolean(),
  repetition_penalty: number,
  top_n_tokens: fc.integer({ min: -1, max: 10 }),
};

const message = someOf({ role: fc.constantFrom('system', 'user', 'assistant', 'user', 'tool'), content: prompt }, [
  'role',
  'content',
]);

const validish: Record<Route, fc.Arbitrary<Record<string, unknown>>> = {
  '/v1/generate': someOf(
    {
      model_id: model,
      inputs: prompt,
      stream: fc.boolean(),
      scenario: fc.constantFrom('qa', 'chat', 'bad scenario!'),
      parameters: someOf(sampling),
    },
    ['model_id', 'inputs'],
  ),
  '/v1/chat/completions': someOf(
    {
      model,
      messages: fc.array(message, { minLength: 1, maxLength: 4 }),
      max_tokens: fc.integer({ min: -2, max: 600 }),
      temperature: number,
      top_p: number,
      stream: fc.boolean(),
      stop: fc.oneof(text, fc.array(text, { maxLength: 5 })),
      n: fc.integer({ min: 0, max: 3 }),
      logprobs: fc.boolean(),
      top_logprobs: fc.integer({ min: -1, max: 25 }),
      response_format: fc.oneof(fc.constant({ type: 'json_object' }), fc.constant({ type: 'text' }), anything),
    },
    ['model', 'messages'],
  ),
  '/v1/completions': someOf(
    {
      model,
      prompt: fc.oneof(prompt, fc.array(prompt, { maxLength: 2 })),
      max_tokens: fc.integer({ min: -2, max: 600 }),
      temperature: number,
      echo: fc.boolean(),
      stream: fc.boolean(),
      logprobs: fc.constant(null), // any other value is refused: completions carry no logprobs
      stop: fc.oneof(text, fc.array(text, { maxLength: 5 })),
    },
    ['model', 'prompt'],
  ),
};

/** Bodies every field of which is in range, of any text: what a client that reads the docs sends. */
const servable: Record<Route, fc.Arbitrary<Record<string, unknown>>> = (() => {
  const said = prompt.filter((value) => value.length > 0);
  const served = fc.constantFrom('qwen2', 'llama3', 'qwen2-7b');
  const tokens = fc.integer({ min: 1, max: 64 });
  const optional = { requiredKeys: [] as never[] };
  return {
    '/v1/generate': fc.record({
      model_id: served,
      inputs: said,
      stream: fc.boolean(),
      parameters: fc.record(
        { max_new_tokens: tokens, temperature: fc.double({ min: 0.1, max: 2, noNaN: true }), details: fc.boolean() },
        optional,
      ),
    }),
    '/v1/chat/completions': fc.record({
      model: served,
      messages: fc.array(fc.record({ role: fc.constant('user'), content: said }), { minLength: 1, maxLength: 3 }),
      max_tokens: tokens,
      stream: fc.boolean(),
    }),
    '/v1/completions': fc.record({ model: served, prompt: said, max_tokens: tokens, stream: fc.boolean() }),
  };
})();

/** Bodies as bytes: JSON of a valid-ish object, of any JSON value, nested deep, cut short, or not JSON at all. */
function bodyFor(route: Route): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 6, arbitrary: servable[route].map((body) => JSON.stringify(body)) },
    { weight: 8, arbitrary: validish[route].map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validish[route], fc.nat({ max: 1000 }))
        .map(([body, cut]) => JSON.stringify(body).slice(0, cut)),
    },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '{"model_id":"qwen2","inputs":"\\ud800"}',
        '{"model_id":"qwen2","inputs":"Hi","model_id":"llama3"}',
        'model_id=qwen2&inputs=Hi',
        'null',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const contentType = fc.oneof(
  { weight: 16, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/json; charset=latin1',
      'application/jsonx',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '',
      ';;;',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).filter((value) => /^[\t\x20-\x7e]*$/.test(value)) },
);

const headerValue = fc.string({ maxLength: 60 }).filter((value) => /^[\t\x20-\x7e]*$/.test(value));
const extraHeaders = fc.record(
  {
    'x-request-id': fc.oneof(fc.constantFrom('fuzz-1', 'a'.repeat(129), '../../etc', ''), headerValue),
    accept: fc.constantFrom('*/*', 'text/event-stream', 'application/xml', ''),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', '*'),
    authorization: headerValue,
    'x-priority': headerValue,
  },
  { requiredKeys: [] },
);

const method = fc.oneof(
  { weight: 12, arbitrary: fc.constant('POST' as const) },
  { weight: 1, arbitrary: fc.constantFrom('GET' as const, 'PUT' as const, 'DELETE' as const, 'PATCH' as const) },
  { weight: 1, arbitrary: fc.constantFrom('OPTIONS' as const, 'HEAD' as const) },
);

const request = fc
  .constantFrom(...ROUTES)
  .chain((route) =>
    fc.record({ route: fc.constant(route), method, body: bodyFor(route), contentType, headers: extraHeaders }),
  );

describe('fuzzing the generation routes: never a 5xx, always the documented shape with x-request-id', () => {
  let gateway: InProcessGateway;
  let requests = 0;
  /** How many answers of each status: printed, so that a run shows what it reached. */
  const statuses = new Map<number, number>();

  before(async () => {
    gateway = await startInProcessGateway({ bodyLimitBytes: 64 * 1024 });
  });
  after(() => gateway?.close());

  it('answers thousands of generated requests within the documented statuses and shapes', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ route, method, body, contentType, headers }) => {
        requests++;
        const answer = await gateway.app.inject({
          method,
          url: route,
          headers: { ...headers, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
          ...(body === undefined ? {} : { payload: body }),
        });
        assertWellFormed(answer, route, method);
        statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
      }),
      { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
  });

  it('is alive and serves afterwards', async () => {
    assert.ok(requests >= 3000, `${requests} requests`);
    console.log(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    assert.ok((statuses.get(200) ?? 0) > 100, 'many generated requests were served, not only refused');
    assert.equal((await gateway.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
    const served = await gateway.app.inject({
      method: 'POST',
      url: '/v1/generate',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ model_id: 'qwen2', inputs: 'still here' }),
    });
    assert.equal(served.statusCode, 200, served.body);
    assert.equal(served.json().generated_text, ' still here');
  });
});

function assertWellFormed(answer: InjectedAnswer, route: Route, method: string): void {
  const context = `${method} ${route} -> ${answer.statusCode} ${answer.body.slice(0, 300)}`;
  assert.ok(answer.statusCode < 500, context);
  assert.match(String(answer.headers['x-request-id'] ?? ''), /^[A-Za-z0-9._-]{1,128}$/, context);
  if (method === 'HEAD') return;
  const type = String(answer.headers['content-type'] ?? '');
  if (answer.statusCode === 200 && type.startsWith('text/event-stream')) {
    assert.match(answer.body, /^data:/, context);
    return;
  }
  assert.match(type, /^application\/json/, context);
  const body = JSON.parse(answer.body) as Record<string, any>;
  assert.ok(answer.body.length < 64 * 1024, `${context}: an answer of ${answer.body.length} characters`);
  if (answer.statusCode < 400) return;
  if (apiDialectOf(route, method) === 'openai') {
    assert.deepEqual(Object.keys(body).sort(), ['error'], context);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type'], context);
    assert.ok(body.error.message.length <= 1000, context);
  } else {
    assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id'], context);
    assert.equal(body.request_id, answer.headers['x-request-id'], context);
    assert.ok(body.error.length <= 1000, context);
  }
  if (answer.statusCode === 405) assert.match(String(answer.headers.allow), /POST/, context);
}
