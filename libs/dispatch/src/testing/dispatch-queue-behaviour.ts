import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  GatewayError,
  TgiBackend,
  type BackendRequest,
  type ChatDelta,
  type ChatGenerationRequest,
  type TgiStreamEvent,
} from '#backends';
import { startTgiStandIn, testChatRequest, type StandInScript, type TgiStandIn } from '#backends/testing';
import type { DispatchJob, DispatchLimits, DispatchQueue, DispatchResult, JobExecutor } from '../dispatch-queue.js';
import { executorOn } from './backend-executor.js';

/**
 * The behaviour every DispatchQueue implementation must show, written once and run against each (the in-process
 * queue, and BullMQ over a real redis-server). The backend is the TGI stand-in behind a real TgiBackend, and the cap
 * is measured where it matters: the stand-in's own count of generations running at once.
 */
export interface QueueUnderTest {
  queue: DispatchQueue;
  close(): Promise<void>;
}

/** Makes a fresh queue (its own keys, for Redis) for model `m` with these limits, running jobs with `execute`. */
export type QueueFactory = (limits: DispatchLimits, execute: JobExecutor) => Promise<QueueUnderTest>;

/** The stand-in's behaviour is chosen by the prompt's first word, so one backend serves every case. */
function scriptFor(inputs: string): StandInScript {
  switch (inputs.split(' ')[0]) {
    case 'burst':
      return { tokens: ['a', 'b'], firstTokenDelayMs: 3, tokenDelayMs: 3 };
    case 'stream':
      return { tokens: [' one', ' two', ' three'], tokenDelayMs: 2 };
    case 'fail':
      return {
        tokens: ['a', 'b', 'c'],
        errorAfterTokens: { tokens: 1, errorType: 'generation', message: 'CUDA error' },
      };
    case 'overloaded':
      return { overloaded: true };
    case 'slow':
      return { tokens: Array.from({ length: 50 }, (_, i) => ` t${i}`), tokenDelayMs: 20 };
    case 'paced':
      // About 200 ms a job: a backend whose service rate is known, so that a backlog's drain time is too.
      return { tokens: Array.from({ length: 10 }, (_, i) => ` p${i}`), tokenDelayMs: 20 };
    default:
      return { tokens: [' ok'] };
  }
}

/** Holds a job in the executor (its slot taken, the backend not yet called) until opened. */
class Gate {
  open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
}

interface Rig {
  queue: DispatchQueue;
  standIn: TgiStandIn;
  /** Prompts in the order the executor started them: the order in which the queue dispatched. */
  started: string[];
  /** A job whose prompt is a key here waits at its gate before calling the backend. */
  gates: Map<string, Gate>;
  dispatch(inputs: string, job?: Partial<DispatchJob>): Promise<DispatchResult>;
}

export function describeDispatchQueueBehaviour(implementation: string, makeQueue: QueueFactory): void {
  describe(`${implementation}: dispatch-queue behaviour`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    async function rig(limits: DispatchLimits): Promise<Rig> {
      const standIn = await startTgiStandIn({
        script: (r) => scriptFor(promptOf(r.body as BackendRequest)),
        maxConcurrentRequests: 1000,
      });
      const backend = new TgiBackend(standIn.url, { maxSockets: 256 });
      const started: string[] = [];
      const gates = new Map<string, Gate>();
      const onBackend = executorOn(backend, { connectMs: 2000, firstByteMs: 5000, interTokenMs: 5000 });
      const execute: JobExecutor = async (modelId, request, context) => {
        const inputs = promptOf(request);
        started.push(inputs);
        await gates.get(inputs)?.opened;
        return onBackend(modelId, request, context);
      };
      const underTest = await makeQueue(limits, execute);
      cleanups.push(
        () => underTest.close(),
        async () => backend.close(),
        () => standIn.close(),
      );
      const dispatch = (inputs: string, job: Partial<DispatchJob> = {}) =>
        underTest.queue.dispatch('m', {
          request: { inputs, parameters: { max_new_tokens: 64 } },
          priority: 0,
          deadline: Date.now() + 10_000,
          signal: new AbortController().signal,
          ...job,
        });
      return { queue: underTest.queue, standIn, started, gates, dispatch };
    }

    /** Starts a job that holds the model's only slot until the returned gate opens. */
    async function holdTheSlot(
      r: Rig,
      job: Partial<DispatchJob> = {},
    ): Promise<{ gate: Gate; done: Promise<DispatchResult> }> {
      const gate = new Gate();
      r.gates.set('hold', gate);
      const done = r.dispatch('hold', job);
      await until(() => r.started.includes('hold'));
      return { gate, done };
    }

    const queued = async (r: Rig) => (await r.queue.stats('m')).queued;
    const receivedPrompts = (standIn: TgiStandIn) =>
      standIn.received.map((req) => promptOf(req.body as BackendRequest));

    it('a burst of 200 reaches a backend that takes 8 at a time 8 at a time, in arrival order, each answered once', async () => {
      // Order and exactly-once are the subject here, not admission: a cold model's estimate, on a busy machine, may
      // predict more than the default bound for this burst (the tests below cover the bound).
      const r = await rig({ maxConcurrent: 8, maxQueued: 256, maxQueueWaitMs: 30_000 });
      const prompts = Array.from({ length: 200 }, (_, i) => `burst ${i}`);
      const results = await Promise.allSettled(prompts.map((p) => r.dispatch(p)));
      assert.deepEqual(
        results.filter((x) => x.status === 'rejected'),
        [],
      );
      assert.equal(r.standIn.stats.maxInFlight, 8, "the backend's own count of generations at once");
      // In arrival order, up to the slots taken at once: jobs a worker takes together (BullMQ's concurrency fetches
      // several at a time) may reach the executor in either order, never ahead of one that arrived a full set of
      // slots before them.
      assert.deepEqual([...r.started].sort(), [...prompts].sort(), 'each dispatched once');
      const late = r.started.filter((prompt, at) => Math.abs(at - prompts.indexOf(prompt)) >= 8);
      assert.deepEqual(late, [], `dispatched in arrival order, within the 8 slots: ${r.started.join(', ')}`);
      assert.deepEqual(receivedPrompts(r.standIn).sort(), [...prompts].sort(), 'each reached the backend exactly once');
      // The Redis queue counts a job as running until its worker has recorded it done, just after the answer.
      await until(async () => {
        const { inFlight, queued } = await r.queue.stats('m');
        return inFlight === 0 && queued === 0;
      });
    });

    it('admits and serves a burst of 200 that a warm backend drains within max_queue_wait_ms: none refused', async () => {
      const maxQueueWaitMs = 5000;
      const r = await rig({ maxConcurrent: 8, maxQueued: 256, maxQueueWaitMs });
      await Promise.all(Array.from({ length: 16 }, (_, i) => r.dispatch(`burst warm-up ${i}`)));
      const before = await r.queue.stats('m');
      // The premise, checked: at the estimated rate the burst drains in well under the bound (this machine's load
      // moves the rate; the bound leaves room for it).
      const drainMs = (200 / (before.serviceRatePerS ?? 0)) * 1000;
      assert.ok(drainMs < maxQueueWaitMs / 2, `drains in ${Math.round(drainMs)} ms: ${JSON.stringify(before)}`);
      const prompts = Array.from({ length: 200 }, (_, i) => `burst ${i}`);
      const results = await Promise.allSettled(prompts.map((p) => r.dispatch(p)));
      assert.deepEqual(
        results.filter((x) => x.status === 'rejected'),
        [],
        'predicted to drain within the bound: all admitted',
      );
      assert.equal(r.standIn.stats.maxInFlight, 8);
      assert.equal(receivedPrompts(r.standIn).filter((p) => /^burst \d+$/.test(p)).length, 200, 'all 200 served');
    });

    it('refuses at once with 429 a request whose deadline is shorter than its predicted wait: never admitted, never timed out', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 10, maxQueueWaitMs: 5000 });
      const hold = await holdTheSlot(r);
      // Nothing has finished and the slot has been busy for 300 ms: a newcomer waits at least that long.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const sentAt = performance.now();
      const error = await rejection(r.dispatch('too short', { deadline: Date.now() + 100 }));
      const answeredMs = performance.now() - sentAt;
      assert.deepEqual([error.type, error.status], ['overloaded', 429]);
      assert.match(error.message, /predicted wait \d+ ms exceeds the request's remaining deadline/);
      assert.ok((error.retryAfterS ?? 0) >= 1);
      assert.ok(answeredMs < 100, `refused at once, not at its deadline: ${answeredMs.toFixed(1)} ms`);
      assert.equal(await queued(r), 0, 'never admitted');
      const long = r.dispatch('long enough', { deadline: Date.now() + 10_000 });
      await until(async () => (await queued(r)) === 1);
      assert.ok((await r.queue.stats('m')).predictedWaitMs >= 300, 'the predicted wait is shown');
      hold.gate.open();
      await Promise.all([hold.done, long]);
      assert.ok(!r.started.includes('too short') && !receivedPrompts(r.standIn).includes('too short'));
    });

    it('refuses at once a newcomer predicted to wait past max_queue_wait_ms, and admits again once the line drains', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 10, maxQueueWaitMs: 200 });
      const hold = await holdTheSlot(r);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const error = await rejection(r.dispatch('too late'));
      assert.deepEqual([error.type, error.status], ['overloaded', 429]);
      assert.match(error.message, /exceeds max_queue_wait_ms 200/);
      hold.gate.open();
      await hold.done;
      assert.equal((await r.dispatch('after')).outcome.generatedText, ' ok');
      assert.ok(!receivedPrompts(r.standIn).includes('too late'));
    });

    it("answers a sudden burst's refused newcomers with a Retry-After within 2x of the time the backlog takes to clear", async () => {
      const maxQueueWaitMs = 1000;
      const r = await rig({ maxConcurrent: 4, maxQueued: 200, maxQueueWaitMs });
      // A cold model: its estimate starts optimistic, so the whole burst is admitted, as in a real sudden burst.
      const burst = Array.from({ length: 80 }, (_, i) => r.dispatch(`paced burst ${i}`));
      const probes: Array<{ sentAt: number; retryAfterS: number }> = [];
      let draining = true;
      const drained = Promise.allSettled(burst).then((results) => {
        draining = false;
        return results;
      });
      // Newcomers from the moment the first jobs have finished: the backlog's drain time is the question from then on.
      await until(() => r.started.length > 4);
      while (draining) {
        const sentAt = performance.now();
        const probe = await r.dispatch(`paced probe ${probes.length}`).then(
          () => undefined,
          (error: GatewayError) => error,
        );
        if (!probe) break; // admitted: the backlog fits the bound again
        assert.equal(probe.type, 'overloaded', probe.message);
        probes.push({ sentAt, retryAfterS: probe.retryAfterS ?? 0 });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const results = await drained;
      const clearedAt = performance.now();
      assert.deepEqual(
        results.filter((x) => x.status === 'rejected'),
        [],
        'the burst itself was admitted and served',
      );
      assert.ok(probes.length > 0, 'a newcomer was refused while the backlog stood');
      const report = probes.map((p) => ({ clearsInS: (clearedAt - p.sentAt) / 1000, retryAfterS: p.retryAfterS }));
      // The honest answer is when a retry would be admitted: once what is left fits max_queue_wait_ms. Whole seconds,
      // at least 1; within 2x of that.
      for (const { clearsInS, retryAfterS } of report) {
        const honestS = Math.max(1, clearsInS - maxQueueWaitMs / 1000);
        assert.ok(
          retryAfterS <= 2 * honestS + 1 && retryAfterS >= honestS / 2 - 1,
          `Retry-After ${retryAfterS} s for a backlog that cleared in ${clearsInS.toFixed(1)} s: ${JSON.stringify(report)}`,
        );
      }
    });

    it('serves lower priority numbers first and, within a priority, in arrival order', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 10 });
      const hold = await holdTheSlot(r);
      const jobs: Array<[string, number]> = [
        ['p2-a', 2],
        ['p1-a', 1],
        ['p3-a', 3],
        ['p1-b', 1],
        ['p2-b', 2],
        ['p1-c', 1],
      ];
      const done: Array<Promise<DispatchResult>> = [];
      for (const [inputs, priority] of jobs) {
        done.push(r.dispatch(inputs, { priority }));
        await until(async () => (await queued(r)) === done.length);
      }
      hold.gate.open();
      await Promise.all([hold.done, ...done]);
      assert.deepEqual(r.started, ['hold', 'p1-a', 'p1-b', 'p1-c', 'p2-a', 'p2-b', 'p3-a']);
    });

    /** Queues each caller's jobs, in this order, behind a held slot; resolves once all of them wait. */
    async function queueBehindHold(r: Rig, jobs: Array<[string, Partial<DispatchJob>]>) {
      const done = jobs.map(([inputs, job]) => r.dispatch(inputs, job));
      await until(async () => (await queued(r)) === jobs.length);
      return done;
    }
    const as = (id: string, weight = 1) => ({ client: { id, weight } });
    const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

    it("gives another caller's newcomer the next turn, ahead of the backlog one caller queued before it", async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 50, highestPriority: 0 });
      const hold = await holdTheSlot(r, as('flood'));
      const done = await queueBehindHold(r, [
        ...named('flood', 20).map((inputs): [string, Partial<DispatchJob>] => [inputs, as('flood')]),
        ['light', as('light')],
      ]);
      hold.gate.open();
      await Promise.all([hold.done, ...done]);
      assert.deepEqual(r.started, ['hold', 'light', ...named('flood', 20)]);
    });

    it('gives a weight-2 caller two turns for each turn of a weight-1 caller, each in its arrival order', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 50, highestPriority: 0 });
      const hold = await holdTheSlot(r);
      const done = await queueBehindHold(r, [
        ...named('heavy', 8).map((inputs): [string, Partial<DispatchJob>] => [inputs, as('heavy', 2)]),
        ...named('light', 8).map((inputs): [string, Partial<DispatchJob>] => [inputs, as('light', 1)]),
      ]);
      hold.gate.open();
      await Promise.all([hold.done, ...done]);
      const turns = r.started.slice(1);
      for (let k = 1; k <= 4; k++)
        assert.equal(turns.slice(0, 3 * k).filter((s) => s.startsWith('heavy')).length, 2 * k, turns.join(' '));
      assert.deepEqual(
        turns.filter((s) => s.startsWith('heavy')),
        named('heavy', 8),
      );
      assert.deepEqual(
        turns.filter((s) => s.startsWith('light')),
        named('light', 8),
      );
    });

    it('takes turns only within a priority: the policy decides first', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 50, highestPriority: 3 });
      const hold = await holdTheSlot(r);
      const done = await queueBehindHold(r, [
        ...named('urgent-flood', 6).map((inputs): [string, Partial<DispatchJob>] => [
          inputs,
          { ...as('flood'), priority: 1 },
        ]),
        ...named('batch', 2).map((inputs): [string, Partial<DispatchJob>] => [inputs, { ...as('light'), priority: 3 }]),
        ['urgent-light', { ...as('light'), priority: 1 }],
      ]);
      hold.gate.open();
      await Promise.all([hold.done, ...done]);
      assert.deepEqual(r.started, [
        'hold',
        'urgent-flood0',
        'urgent-light',
        ...named('urgent-flood', 6).slice(1),
        ...named('batch', 2),
      ]);
    });

    it("admits another caller's newcomer predicted a short wait behind a flood, while the flood's next is refused", async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 50, maxQueueWaitMs: 1000, highestPriority: 0 });
      const hold = await holdTheSlot(r);
      const done = await queueBehindHold(
        r,
        named('flood', 8).map((inputs) => [inputs, as('flood')]),
      );
      // Nothing has finished and the slot has been busy for 250 ms: a slot takes at least that long per job. The
      // flood's next would wait for its 8 queued jobs and the running one (over 2 s); the newcomer for one queued
      // job and the running one.
      await new Promise((resolve) => setTimeout(resolve, 250));
      const refused = await rejection(r.dispatch('flood-next', as('flood')));
      assert.deepEqual([refused.type, refused.status], ['overloaded', 429]);
      assert.match(refused.message, /exceeds max_queue_wait_ms 1000/);
      const light = r.dispatch('light', as('light'));
      await until(async () => (await queued(r)) === 9);
      hold.gate.open();
      await Promise.all([hold.done, light, ...done]);
      assert.deepEqual(r.started.slice(0, 3), ['hold', 'flood0', 'light']);
      assert.ok(!receivedPrompts(r.standIn).includes('flood-next'));
    });

    it('fails a job whose deadline passes while it is queued with timeout, and never sends it to the backend', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 10 });
      const hold = await holdTheSlot(r);
      const error = await rejection(r.dispatch('expires', { deadline: Date.now() + 150 }));
      assert.equal(error.type, 'timeout');
      assert.equal(error.status, 504);
      await until(async () => (await queued(r)) === 0);
      hold.gate.open();
      await hold.done;
      assert.equal((await r.dispatch('after')).outcome.generatedText, ' ok');
      assert.ok(!r.started.includes('expires') && !receivedPrompts(r.standIn).includes('expires'));
    });

    it('drops a queued job whose client disconnects: it never reaches the backend', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 10 });
      const hold = await holdTheSlot(r);
      const client = new AbortController();
      const leaving = r.dispatch('leaves', { signal: client.signal });
      await until(async () => (await queued(r)) === 1);
      client.abort(new Error('client disconnected'));
      await assert.rejects(leaving, /client disconnected/);
      await until(async () => (await queued(r)) === 0);
      hold.gate.open();
      await hold.done;
      assert.equal((await r.dispatch('after')).outcome.generatedText, ' ok');
      assert.ok(!r.started.includes('leaves') && !receivedPrompts(r.standIn).includes('leaves'));
    });

    it('aborts the backend call of a running job whose client disconnects', async () => {
      const r = await rig({ maxConcurrent: 2, maxQueued: 10 });
      const client = new AbortController();
      const leaving = r.dispatch('slow', { signal: client.signal });
      await until(() => r.standIn.stats.inFlight === 1);
      const disconnected = r.standIn.nextDisconnect();
      client.abort(new Error('client disconnected'));
      await assert.rejects(leaving, /client disconnected/);
      await disconnected;
    });

    it('refuses past max_queued with overloaded and a Retry-After of at least a second, then serves the queued ones', async () => {
      const r = await rig({ maxConcurrent: 1, maxQueued: 2 });
      const hold = await holdTheSlot(r);
      const waiting = [r.dispatch('q1'), r.dispatch('q2')];
      await until(async () => (await queued(r)) === 2);
      const { inFlight, queued: queuedNow } = await r.queue.stats('m');
      assert.deepEqual({ inFlight, queued: queuedNow }, { inFlight: 1, queued: 2 });
      const error = await rejection(r.dispatch('one too many'));
      assert.equal(error.type, 'overloaded');
      assert.equal(error.status, 429);
      assert.ok((error.retryAfterS ?? 0) >= 1);
      hold.gate.open();
      const results = await Promise.all([hold.done, ...waiting]);
      assert.ok(results[1]!.queuedMs > 0, 'queue wait is measured per request');
      assert.ok(!receivedPrompts(r.standIn).includes('one too many'));
    });

    it('relays streamed tokens to the caller as the backend produces them', async () => {
      const r = await rig({ maxConcurrent: 2, maxQueued: 10 });
      const tokens: TgiStreamEvent[] = [];
      const { outcome } = await r.dispatch('stream', { onToken: (event) => tokens.push(event) });
      assert.deepEqual(
        tokens.map((t) => t.token.text),
        [' one', ' two', ' three', '</s>'],
      );
      assert.equal(outcome.generatedText, ' one two three');
      assert.equal(outcome.outputTokens, 4);
    });

    it("relays a chat job's deltas, logprobs with them, as the backend streams them", async () => {
      const r = await rig({ maxConcurrent: 2, maxQueued: 10 });
      const deltas: ChatDelta[] = [];
      const { outcome } = await r.dispatch('stream', {
        request: testChatRequest('stream', { logprobs: true }),
        onDelta: (delta) => deltas.push(delta),
      });
      assert.deepEqual(
        deltas.map((d) => [d.content, d.logprobs?.map((l) => l.token)]),
        [' one', ' two', ' three'].map((text) => [text, [text]]),
      );
      assert.deepEqual(
        [outcome.generatedText, outcome.finishReason, outcome.inputTokens, outcome.outputTokens],
        [' one two three', 'eos_token', 1, 4],
      );
      assert.equal(outcome.logprobs?.length, 4, "every token's, the end token's too");
      assert.equal(r.standIn.received.at(-1)!.route, '/v1/chat/completions');
    });

    it("carries a job's route to the backend and TGI's details, prompt and top tokens included, back to the caller", async () => {
      const r = await rig({ maxConcurrent: 2, maxQueued: 10 });
      const parameters = { details: true, decoder_input_details: true, top_n_tokens: 2 };
      const { outcome } = await r.dispatch('details', {
        request: { inputs: 'details of this prompt', parameters, route: 'generate' },
      });
      const received = r.standIn.received.at(-1)!;
      assert.deepEqual(
        [received.route, received.body],
        ['/generate', { inputs: 'details of this prompt', parameters }],
      );
      const details = outcome.details!;
      assert.deepEqual(
        [details.tokens.map((t) => t.text), details.prefill.length, details.top_tokens?.map((top) => top.length)],
        [[' ok', '</s>'], 4, [2, 2]],
      );
      assert.deepEqual([outcome.generatedText, outcome.inputTokens, outcome.outputTokens], [' ok', 4, 2]);
    });

    it("hands the backend's errors to the caller as the same GatewayError", async () => {
      const r = await rig({ maxConcurrent: 2, maxQueued: 10 });
      const failed = await rejection(r.dispatch('fail'));
      assert.deepEqual([failed.type, failed.status], ['upstream', 502]);
      assert.match(failed.message, /CUDA error/);
      const overloaded = await rejection(r.dispatch('overloaded'));
      assert.deepEqual([overloaded.type, overloaded.status], ['overloaded', 429]);
    });
  });
}

/** What the stand-in scripts choose by: a generation's inputs, or a chat's last message (as sent, or on the wire). */
export function promptOf(request: BackendRequest | { messages: ChatGenerationRequest['messages'] }): string {
  return 'messages' in request ? (request.messages.at(-1)?.content ?? '') : request.inputs;
}

export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GatewayError, `not a GatewayError: ${String(error)}`);
  return error;
}

/** Polls until the condition holds (5 s at most). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
