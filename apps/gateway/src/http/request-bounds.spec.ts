import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertErrorAnswer, postGenerate } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

/**
 * Bounds on what a body may be and on what a refusal may say, through the gateway's real pipeline in process, with a
 * body limit large enough for bodies that are deep or wide rather than long.
 */
describe('the gateway bounds the shape of a body and the length of its refusals', () => {
  let gateway: InProcessGateway;
  const generate = (body: unknown) => postGenerate(gateway.app, body);
  const get = (url: string) => gateway.app.inject({ method: 'GET', url });

  before(async () => {
    gateway = await startInProcessGateway({ bodyLimitBytes: 4 * 1_048_576 });
  });
  after(() => gateway?.close());

  it('400 validation for a body nested too deep or with too many keys, checked without recursion', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assertErrorAnswer(await generate(deep), 400, 'validation', /nests deeper than 64 levels/);
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    assertErrorAnswer(await generate(wide), 400, 'validation', /more than 1000 keys/);
    const many = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [
        `o${i}`,
        Object.fromEntries(Array.from({ length: 999 }, (_, j) => [j, j])),
      ]),
    );
    assertErrorAnswer(await generate(many), 400, 'validation', /more than 10000 keys in all/);
  });

  it('keeps a refusal short: five problems named of hundreds, long field names cut, every message within 1,000 characters', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`field_${i}`, i]));
    const many = assertErrorAnswer(await generate({ model_id: 'qwen2', inputs: 'Hi', ...unknown }), 422, 'validation');
    assert.match(many.error, /^property field_0 should not exist; .*field_4 should not exist; and 895 more$/);
    const long = assertErrorAnswer(
      await generate({ model_id: 'qwen2', inputs: 'Hi', ['k'.repeat(5000)]: 1 }),
      422,
      'validation',
    );
    assert.ok(long.error.length < 200, long.error);
    const path = `/v2/${'p'.repeat(5000)}`;
    assert.ok(assertErrorAnswer(await get(path), 404, 'not_found').error.length <= 1000);
  });
});
