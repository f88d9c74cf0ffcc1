import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer, type TestRedis } from '#dispatch/testing';
import { assertOpenAiError, postGenerate, until } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';
import { entryOf, entryYaml, generateApiKey, grantOf } from './api-key-issuing.js';
import { runKeysCommand } from './keys-commands.js';

async function keys(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  await runKeysCommand(argv, (line) => lines.push(line));
  return lines.join('\n');
}

const keyIn = (printed: string) => /^(sk-sluice-\S+)$/m.exec(printed)![1]!;

/** The documented default: how long a replica may go on trusting a key it looked up. */
const CACHE_MS = 5000;

/**
 * Keys kept in a real Redis, managed with the keys CLI while a gateway (API_KEYS_REDIS=on) serves: added keys work
 * at once, revoked ones stop within API_KEYS_CACHE_MS, a key the keys file revokes stays refused, and a Redis that
 * does not answer refuses unknown keys with 503 rather than letting them through.
 */
describe('API keys in Redis', () => {
  let redis: TestRedis;
  let gateway: InProcessGateway;
  const prefix = `sluice-keys-${randomUUID()}`;
  const fileKey = generateApiKey();
  const blockedKey = generateApiKey();
  let teamKey: string;

  const models = (key?: string) =>
    gateway.app.inject({ method: 'GET', url: '/v1/models', headers: key ? { authorization: `Bearer ${key}` } : {} });
  const store = (...argv: string[]) => keys(...argv, '--redis', redis.url, '--prefix', prefix);

  before(async () => {
    redis = await startRedisServer();
    teamKey = keyIn(await store('new', 'team-r', '--models', 'qwen2'));
    // The file revokes a key that Redis still holds as valid: the file's word stands.
    await store('new', 'blocked', '--models', 'qwen2');
    const connection = new Redis(redis.url);
    const blockedHash = entryOf(blockedKey, grantOf('blocked', {})).sha256;
    const stored = await connection.hgetall(`${prefix}:api-keys`);
    const [generatedHash, grant] = Object.entries(stored).find(([, value]) => value.includes('"blocked"'))!;
    await connection.hdel(`${prefix}:api-keys`, generatedHash);
    await connection.hset(`${prefix}:api-keys`, blockedHash, grant);
    connection.disconnect();
    const fileYaml = `keys:\n${entryYaml(entryOf(fileKey, grantOf('from-file', {})))}\n${entryYaml(
      entryOf(blockedKey, grantOf('blocked', {})),
    )}\n    revoked: true\n`;
    gateway = await startInProcessGateway({
      keysYaml: fileYaml,
      env: { API_KEYS_REDIS: 'on', REDIS_URL: redis.url, DISPATCH_PREFIX: prefix },
    });
  });
  after(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  it('a key made with `new --redis` opens the gateway, within its scope; the file keys work beside it', async () => {
    const answer = await models(teamKey);
    assert.equal(answer.statusCode, 200, answer.body);
    assert.deepEqual(
      answer
        .json()
        .data.map((m: { id: string }) => m.id)
        .sort(),
      ['qwen2', 'qwen2-7b'],
    );
    assert.equal((await models(fileKey)).statusCode, 200);
    assertOpenAiError(await models(generateApiKey()), 401, 'invalid_api_key');
    assert.equal((await models(blockedKey)).statusCode, 401, 'revoked in the file, valid in Redis');
  });

  it('list shows names and states, never keys; a name is not given twice', async () => {
    const listed = await store('list');
    assert.match(listed, /^team-r {2}models=qwen2 {2}active {2}sha256=[0-9a-f]{12}…$/m);
    assert.ok(!listed.includes(teamKey));
    await assert.rejects(store('new', 'team-r'), /already in/);
  });

  it(`a key added while the gateway runs works at once; a revoked one is refused within ${CACHE_MS} ms`, async () => {
    const late = keyIn(await store('new', 'late'));
    assert.equal((await models(late)).statusCode, 200);
    assert.equal((await models(teamKey)).statusCode, 200); // cached now
    assert.match(await store('revoke', 'team-r'), /revoked/);
    const revokedAt = Date.now();
    await until(async () => (await models(teamKey)).statusCode === 401, CACHE_MS + 2000);
    const tookMs = Date.now() - revokedAt;
    assert.ok(tookMs <= CACHE_MS + 1000, `revocation took ${tookMs} ms`);
    assert.match(await store('list'), /^team-r .* revoked /m);
    await assert.rejects(store('revoke', 'nobody'), /no key named "nobody"/);
  });

  it('a stored value that is not a key entry refuses that key, nothing else', async () => {
    const key = generateApiKey();
    const connection = new Redis(redis.url);
    await connection.hset(`${prefix}:api-keys`, entryOf(key, grantOf('x', {})).sha256, '{"name":"x","admin":"yes"}');
    connection.disconnect();
    assertOpenAiError(await models(key), 401, 'invalid_api_key');
    assert.equal((await models(fileKey)).statusCode, 200);
    const listed = await store('list');
    assert.match(listed, /^invalid \(its key is refused\): .*not a key entry/m);
    assert.match(listed, /^late {2}models=\* {2}active/m, 'the other keys are still listed');
  });

  it('while Redis is away, a key not in the cache is 503 with Retry-After, never let through; file keys still work', async () => {
    const late = keyIn(await store('new', 'later'));
    await redis.stop();
    try {
      const answer = await models(late);
      assertOpenAiError(answer, 503, 'unavailable', { message: /keys store/ });
      assert.equal(answer.headers['retry-after'], '1');
      assert.equal((await models(fileKey)).statusCode, 200);
    } finally {
      await redis.start();
    }
    // An empty Redis came back: the key is gone with it.
    await until(async () => (await models(late)).statusCode === 401, 5000);
    // The dispatch queue is back too (closing the gateway while its BullMQ workers reconnect can hang the close).
    await until(async () => {
      const answer = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'a' }, { 'x-api-key': fileKey });
      return answer.statusCode === 200;
    }, 10_000);
  });
});
