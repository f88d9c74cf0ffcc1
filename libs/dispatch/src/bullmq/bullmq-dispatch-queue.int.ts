import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { GatewayError, TgiBackend, type BackendRequest, type ChatDelta, type TgiStreamEvent } from '#backends';
import { startTgiStandIn, testChatRequest, type StandInScript } from '#backends/testing';
import { ManagedProcess } from '#test-support/processes';
import type { DispatchJob, DispatchLimits, JobExecutor } from '../dispatch-queue.js';
import { describeDispatchQueueBehaviour, promptOf, rejection, until } from '../testing/dispatch-queue-behaviour.js';
import { executorOn } from '../testing/backend-executor.js';
import { redisContents } from '../testing/redis-contents.js';
import { externalRedisUrl, startRedisServer, type TestRedis } from '../testing/redis-server.js';
import { isWorkerReplicaReady, WORKER_REPLICA_SCRIPT } from '../testing/worker-replica-channel.js';
import { MAX_PRIORITY } from '../priority-policy.js';
import { turnScale } from '../caller-turns.js';
import { admit, defineAdmission, release, type AdmissionRequest } from './admission.js';
import { BullmqDispatchQueue, type BullmqDispatchQueueOptions } from './bullmq-dispatch-queue.js';
import { RedisNames } from './redis-keys.js';

/**
 * The Redis queue against a REAL redis-server: its own on a free port (REDIS_URL, when set, serves the tests that do
 * not stop Redis), every queue under a prefix of its own.
 */
let sharedRedis: Promise<{ url: string; server?: TestRedis }> | undefined;
const redisUrl = async (): Promise<string> => {
  sharedRedis ??= externalRedisUrl()
    ? Promise.resolve({ url: externalRedisUrl()! })
    : startRedisServer().then((server) => ({ url: server.url, server }));
  return (await sharedRedis).url;
};
after(async () => (await sharedRedis)?.server?.stop());

type ReplicaOptions = Pick<BullmqDispatchQueueOptions, 'runWorkers' | 'lockDurationMs' | 'stalledIntervalMs'>;

function replica(
  url: string,
  prefix: string,
  limits: DispatchLimits,
  execute: JobExecutor,
  options: ReplicaOptions = {},
) {
  return new BullmqDispatchQueue({ redisUrl: url, prefix, limits: new Map([['m', limits]]), execute, ...options });
}

describeDispatchQueueBehaviour('BullmqDispatchQueue', async (limits, execute) => {
  const queue = replica(await redisUrl(), `sluice-test-${randomUUID()}`, limits, execute);
  await queue.whenReady();
  return { queue, close: () => queue.close() };
});

function scriptFor(inputs: string): StandInScript {
  switch (inputs.split(' ')[0]) {
    case 'slow':
      return { tokens: Array.from({ length: 20 }, (_, i) => ` t${i}`), tokenDelayMs: 10 };
    case 'long':
      return { tokens: Array.from({ length: 50 }, (_, i) => ` t${i}`), tokenDelayMs: 10 };
    case 'short':
      return { tokens: [' a', ' b', ' c'], firstTokenDelayMs: 10, tokenDelayMs: 10 };
    case 'hang':
      return { firstTokenDelayMs: 30_000 };
    default:
      return { tokens: [' one', ' two', ' three'], tokenDelayMs: 2 };
  }
}

describe('BullmqDispatchQueue across replicas', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function backendRig() {
    const standIn = await startTgiStandIn({
      script: (r) => scriptFor(promptOf(r.body as BackendRequest)),
      maxConcurrentRequests: 1000,
    });
    const backend = new TgiBackend(standIn.url, { maxSockets: 256 });
    const execute = executorOn(backend, { connectMs: 2000, firstByteMs: 40_000, interTokenMs: 5000 });
    cleanups.push(
      () => standIn.close(),
      async () => backend.close(),
    );
    return { standIn, execute };
  }

  /** A `front` replica queues and answers requests but runs no job (runWorkers: false); a `worker` also runs them. */
  type Role = 'front' | 'worker';

  async function replicas(url: string, limits: DispatchLimits, execute: JobExecutor, roles: Role[]) {
    const prefix = `sluice-test-${randomUUID()}`;
    const queues = roles.map((role) => replica(url, prefix, limits, execute, { runWorkers: role === 'worker' }));
    cleanups.push(() => Promise.all(queues.map((q) => q.close())));
    await Promise.all(queues.map((q) => q.whenReady()));
    return { prefix, queues };
  }

  const job = (inputs: string, extra: Partial<DispatchJob> = {}): DispatchJob => ({
    request: { inputs, parameters: { max_new_tokens: 64 } },
    priority: 0,
    deadline: Date.now() + 20_000,
    signal: new AbortController().signal,
    ...extra,
  });

  it('two replicas sharing Redis never exceed one global cap at the backend', async () => {
    const { standIn, execute } = await backendRig();
    const {
      queues: [a, b],
    } = await replicas(await redisUrl(), { maxConcurrent: 4, maxQueued: 256 }, execute, ['worker', 'worker']);
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a! : b!).dispatch('m', job(`short ${i}`))),
    );
    assert.deepEqual(
      results.filter((r) => r.status === 'rejected'),
      [],
    );
    assert.equal(standIn.stats.maxInFlight, 4);
    assert.equal(standIn.stats.requests, 60);
  });

  it("gives a caller's newcomer at one replica the next turn, ahead of another caller's backlog queued at the other", async () => {
    const { standIn, execute } = await backendRig();
    const {
      queues: [a, b],
    } = await replicas(await redisUrl(), { maxConcurrent: 1, maxQueued: 10, highestPriority: 0 }, execute, [
      'worker',
      'front',
    ]);
    const flood = { client: { id: 'flood', weight: 1 } };
    const done = [a!.dispatch('m', job('long', flood))];
    await until(() => standIn.stats.inFlight === 1);
    for (let i = 0; i < 5; i++) done.push(a!.dispatch('m', job(`short ${i}`, flood)));
    done.push(b!.dispatch('m', job('short light', { client: { id: 'light', weight: 1 } })));
    await until(async () => (await a!.stats('m')).queued === 6);
    await Promise.all(done);
    assert.deepEqual(
      standIn.received.map((r) => promptOf(r.body as BackendRequest)),
      ['long', 'short light', ...Array.from({ length: 5 }, (_, i) => `short ${i}`)],
    );
  });

  it('keeps in Redis the turns of no more callers than the model has slots (and a newcomer) once nobody waits', async () => {
    const { execute } = await backendRig();
    const url = await redisUrl();
    const {
      prefix,
      queues: [a],
    } = await replicas(url, { maxConcurrent: 2, maxQueued: 10, highestPriority: 0 }, execute, ['worker']);
    for (let i = 0; i < 30; i++) await a!.dispatch('m', job(`short ${i}`, { client: { id: `addr:${i}`, weight: 1 } }));
    const turns = JSON.parse((await redisContents(url, prefix)).get(`${prefix}:m:turns`) ?? '{}') as object;
    const callers = Object.keys(turns).filter((field) => field.startsWith('c'));
    // At most as many as the slots, kept at the last admission, and that admission's own caller.
    assert.ok(callers.length <= 2 + 1, `callers remembered: ${callers.join(', ')}`);
  });

  it("streams the tokens of a job that another replica's worker runs", async () => {
    const { standIn, execute } = await backendRig();
    const {
      queues: [front],
    } = await replicas(await redisUrl(), { maxConcurrent: 2, maxQueued: 10 }, execute, ['front', 'worker']);
    const tokens: TgiStreamEvent[] = [];
    const { outcome, queuedMs } = await front!.dispatch(
      'm',
      job('stream me', { onToken: (event) => tokens.push(event) }),
    );
    assert.deepEqual(
      tokens.map((t) => t.token.text),
      [' one', ' two', ' three', '</s>'],
    );
    assert.equal(outcome.generatedText, ' one two three');
    assert.ok(queuedMs >= 0);
    assert.equal(standIn.stats.requests, 1);
  });

  it("streams the deltas of a chat job that another replica's worker runs", async () => {
    const { standIn, execute } = await backendRig();
    const {
      queues: [front],
    } = await replicas(await redisUrl(), { maxConcurrent: 2, maxQueued: 10 }, execute, ['front', 'worker']);
    const deltas: ChatDelta[] = [];
    const { outcome } = await front!.dispatch(
      'm',
      job('chat', { request: testChatRequest('stream me'), onDelta: (delta) => deltas.push(delta) }),
    );
    assert.deepEqual(
      deltas.map((d) => d.content),
      [' one', ' two', ' three'],
    );
    assert.deepEqual(
      [outcome.generatedText, outcome.finishReason, outcome.outputTokens],
      [' one two three', 'eos_token', 4],
    );
    assert.deepEqual(
      standIn.received.map((r) => r.route),
      ['/v1/chat/completions'],
    );
  });

  it("brings back the details of a generate job that another replica's worker runs", async () => {
    const { standIn, execute } = await backendRig();
    const {
      queues: [front],
    } = await replicas(await redisUrl(), { maxConcurrent: 2, maxQueued: 10 }, execute, ['front', 'worker']);
    const request = {
      inputs: 'details please',
      parameters: { details: true, decoder_input_details: true, top_n_tokens: 2 },
      route: 'generate' as const,
    };
    const { outcome } = await front!.dispatch('m', job('details', { request }));
    const sent = standIn.received[0]!;
    assert.deepEqual(
      [sent.route, sent.body],
      ['/generate', { inputs: request.inputs, parameters: request.parameters }],
    );
    const details = outcome.details!;
    assert.deepEqual(
      [details.tokens.map((t) => t.text), details.prefill.map((t) => t.text), details.top_tokens?.length],
      [[' one', ' two', ' three', '</s>'], ['details', ' please'], 4],
    );
    assert.equal(details.prefill[0]!.logprob, null, 'null survives the trip through Redis');
  });

  it('aborts the backend call in the other replica when the client leaves', async () => {
    const { standIn, execute } = await backendRig();
    const {
      queues: [front],
    } = await replicas(await redisUrl(), { maxConcurrent: 2, maxQueued: 10 }, execute, ['front', 'worker']);
    const client = new AbortController();
    const leaving = front!.dispatch('m', job('slow leaving', { signal: client.signal }));
    await until(() => standIn.stats.inFlight === 1);
    const disconnected = standIn.nextDisconnect();
    client.abort(new Error('client disconnected'));
    await assert.rejects(leaving, /client disconnected/);
    await disconnected;
  });

  it('answers within a few seconds, once, and never runs a job twice, when the replica running it dies mid-job', async () => {
    const { standIn, execute } = await backendRig();
    const url = await redisUrl();
    const limits = { maxConcurrent: 2, maxQueued: 10 };
    const {
      prefix,
      queues: [front],
    } = await replicas(url, limits, execute, ['front']);
    const worker = ManagedProcess.start(
      process.execPath,
      [WORKER_REPLICA_SCRIPT],
      {
        REDIS_URL: url,
        DISPATCH_PREFIX: prefix,
        BACKEND_URL: standIn.url,
        MAX_CONCURRENT: '2',
      },
      { ipc: true },
    );
    cleanups.push(() => worker.stop());
    await worker.waitForMessage(isWorkerReplicaReady);
    const answer = front!.dispatch('m', job('hang forever'));
    await until(() => standIn.stats.inFlight === 1);
    // A surviving replica's stalled check, with the default lock and interval, finds the job without its lock and
    // fails it once, instead of rerunning it.
    const survivor = replica(url, prefix, limits, execute);
    cleanups.push(() => survivor.close());
    await survivor.whenReady();
    const killedAt = performance.now();
    worker.child.kill('SIGKILL');
    await worker.exited;
    const error = await rejection(answer);
    const answeredAfterMs = performance.now() - killedAt;
    assert.equal(error.type, 'upstream');
    assert.match(error.message, /stopped mid-generation/);
    assert.ok(answeredAfterMs < 6000, `answered ${Math.round(answeredAfterMs)} ms after the replica died`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(standIn.stats.requests, 1, 'the backend saw the job once');
  });

  it('with Redis stopped mid-run fails every request at once with unavailable, and recovers by itself', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const { standIn, execute } = await backendRig();
    const {
      queues: [queue],
    } = await replicas(server.url, { maxConcurrent: 2, maxQueued: 10 }, execute, ['worker']);
    const running = Array.from({ length: 5 }, (_, i) =>
      queue!.dispatch('m', job(`slow ${i}`)).then(
        () => 'answered',
        (e: Error) => e,
      ),
    );
    await until(() => standIn.stats.inFlight === 2);
    const stoppedAt = performance.now();
    await server.stop();
    const outcomes = await Promise.all(running);
    const failedWithin = performance.now() - stoppedAt;
    for (const outcome of outcomes) assert.equal((outcome as { type?: string }).type, 'unavailable', String(outcome));
    assert.ok(failedWithin < 1000, `all failed within ${Math.round(failedWithin)} ms`);
    const refused = await rejection(queue!.dispatch('m', job('while down')));
    assert.deepEqual([refused.type, refused.status, refused.retryAfterS], ['unavailable', 503, 1]);

    await server.start();
    await until(
      async () =>
        await queue!.dispatch('m', job('after')).then(
          () => true,
          () => false,
        ),
      10_000,
    );
    const before = standIn.stats.maxInFlight;
    await Promise.all(Array.from({ length: 10 }, (_, i) => queue!.dispatch('m', job(`slow again ${i}`))));
    assert.ok(standIn.stats.maxInFlight <= 2 && before <= 2, 'the cap holds after a restart that emptied Redis');
  });

  it('with Redis hung under load answers every request once, takes no ticket for a request that gave up, and serves again at once', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    const { execute } = await backendRig();
    const {
      prefix,
      queues: [a, b],
    } = await replicas(server.url, { maxConcurrent: 2, maxQueued: 6 }, execute, ['worker', 'worker']);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'served',
        (e: GatewayError) => e.type,
      );
    // 20 requests a second over both replicas, before, during and after a hang longer than the command timeout.
    const answers: Array<Promise<string>> = [];
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        answers.push(outcome((i % 2 ? a! : b!).dispatch('m', job(`short load ${i}`))));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let servingAfterMs: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      server.pause();
      await new Promise((resolve) => setTimeout(resolve, 4000));
      server.resume();
      const resumedAt = performance.now();
      for (const queue of [a!, b!]) {
        await until(async () => (await outcome(queue.dispatch('m', job('short after')))) === 'served', 5000);
      }
      servingAfterMs = performance.now() - resumedAt;
    } finally {
      sending = false;
      await sender;
    }
    const outcomes = await Promise.all(answers);
    const counts = Object.fromEntries(['served', 'unavailable', 'overloaded', 'timeout'].map((k) => [k, 0]));
    for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
    assert.ok(counts['unavailable']! > 0, `requests during the hang got 503: ${JSON.stringify(counts)}`);
    assert.ok(servingAfterMs < 5000, `both replicas served ${Math.round(servingAfterMs)} ms after Redis resumed`);
    await until(async () => (await a!.stats('m')).admitted === 0, 3000);
    const contents = await redisContents(server.url, prefix);
    const tickets = contents.get(`${prefix}:m:admitted`);
    assert.ok(tickets === undefined || tickets === '[]', `tickets left: ${tickets}; ${JSON.stringify(counts)}`);
  });

  it('refuses an admission that Redis runs after its caller gave up on it, and takes nothing', async () => {
    const url = await redisUrl();
    const redis = new Redis(url);
    cleanups.push(async () => redis.disconnect());
    defineAdmission(redis);
    const prefix = `sluice-test-${randomUUID()}`;
    const names = new RedisNames(prefix);
    const request = (giveUpAt: number): AdmissionRequest => ({
      tickets: names.tickets('m'),
      meta: names.meta('m'),
      service: names.service('m'),
      turns: names.turns('m'),
      active: names.active('m'),
      uuid: randomUUID(),
      priority: 0,
      caller: { id: 'c', weight: 1 },
      scale: turnScale(MAX_PRIORITY - 1),
      deadline: Date.now() + 10_000,
      maxConcurrent: 1,
      maxQueued: 1,
      maxQueueWaitMs: 1000,
      giveUpAt,
    });
    const [seconds] = await redis.time();
    const redisNow = Number(seconds) * 1000;
    const late = await admit(redis, request(redisNow - 1000));
    assert.deepEqual([late.admitted, late.late], [false, true]);
    assert.equal(await redis.exists(names.tickets('m')), 0, 'no ticket taken');
    const timely = request(redisNow + 10_000);
    assert.equal((await admit(redis, timely)).admitted, true);
    assert.equal(await redis.zcard(names.tickets('m')), 1);
    assert.equal(await release(redis, names.tickets('m'), timely.uuid), 1, 'released by its uuid');
    assert.equal(await redis.exists(names.tickets('m')), 0);
  });

  it('gives every key of its own an expiry: tickets with their furthest deadline, turns and the estimate after an idle hour', async () => {
    const url = await redisUrl();
    const { execute } = await backendRig();
    const {
      prefix,
      queues: [queue],
    } = await replicas(url, { maxConcurrent: 1, maxQueued: 4 }, execute, ['worker']);
    const running = queue!.dispatch('m', job('slow expiry', { deadline: Date.now() + 8000 }));
    const waiting = queue!.dispatch('m', job('short expiry'));
    await until(async () => (await queue!.stats('m')).queued === 1);
    const redis = new Redis(url);
    cleanups.push(async () => redis.disconnect());
    const ttl = async (kind: string) => redis.pttl(`${prefix}:m:${kind}`);
    const ticketsTtl = await ttl('admitted');
    assert.ok(ticketsTtl > 15_000 && ticketsTtl <= 21_000, `tickets expire with the furthest deadline: ${ticketsTtl}`);
    await Promise.all([running, waiting]);
    assert.equal(await redis.exists(`${prefix}:m:admitted`), 0, 'no ticket left, no set');
    for (const kind of ['turns', 'service']) {
      const left = await ttl(kind);
      assert.ok(left > 3_500_000 && left <= 3_600_000, `${kind} expires an hour after the last admission: ${left}`);
    }
  });

  it('leaves no job and no prompt text in Redis after a run', async () => {
    const url = await redisUrl();
    const { standIn, execute } = await backendRig();
    const {
      prefix,
      queues: [a, b],
    } = await replicas(url, { maxConcurrent: 1, maxQueued: 3 }, execute, ['worker', 'front']);
    const secret = `secret-${randomUUID()}`;
    const queued = async (n: number) => until(async () => (await a!.stats('m')).queued === n);
    const finished = a!.dispatch('m', job(`slow ${secret} finished`));
    await until(() => standIn.stats.inFlight === 1);
    const streamed = b!.dispatch('m', job(`${secret} streamed by the other replica`, { onToken: () => undefined }));
    await queued(1);
    const left = new AbortController();
    const leaving = a!.dispatch('m', job(`${secret} client left`, { signal: left.signal }));
    await queued(2);
    const expired = b!.dispatch('m', job(`${secret} expired while queued`, { deadline: Date.now() + 150 }));
    await queued(3);
    assert.equal((await rejection(b!.dispatch('m', job(`${secret} refused`)))).type, 'overloaded');
    left.abort(new Error('gone'));
    const outcomes = await Promise.allSettled([finished, streamed, expired, leaving]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const contents = await redisContents(url, prefix);
    const withSecret = [...contents].filter(([, text]) => text.includes(secret)).map(([key]) => key);
    assert.deepEqual(withSecret, [], 'keys holding prompt text');
    const jobKeys = [...contents.keys()].filter((key) => /^[^:]+:m:[0-9a-f-]{36}/.test(key));
    assert.deepEqual(jobKeys, [], 'job keys');
    for (const kind of ['wait', 'active', 'prioritized', 'admitted']) {
      const text = contents.get(`${prefix}:m:${kind}`);
      assert.ok(text === undefined || text === '[]', `${kind}: ${text}`);
    }
  });
});
