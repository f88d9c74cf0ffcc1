import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '#test-support/engine';
import { modelView, startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { postJson, request } from '#test-support/http-client';

/**
 * Faults of one replica of a model of two, with REAL llama.cpp engines (the shipped tiny model, two engine processes
 * the gateway supervises) under steady load: every request gets exactly one answer, and only the requests the faulty
 * replica held fail.
 */
const MAX_CONCURRENT = 4;

const config = () =>
  writeModelsConfig(`gpus: []
defaults:
  max_concurrent: ${MAX_CONCURRENT}
  max_queued: 256
  # Losing a replica halves the cap for a while: the line absorbs that here instead of shedding load with 429.
  max_queue_wait_ms: 8000
  max_new_tokens: 64
  default_max_new_tokens: 16
  # A request nobody streams is one answer from the engine, which only total_ms bounds: a stopped engine's time out then.
  timeouts: { connect_ms: 1000, first_byte_ms: 2500, inter_token_ms: 2500, total_ms: 5000, startup_ms: 60000 }
models:
  - id: qwen2
    quantization: gguf-q8_0
    replicas: 2
    backend:
      type: local
      model_path: ${REPO_ROOT}models/qwen2-tiny-q8_0.gguf
      engine: { contexts: 1, sequences: 4, threads: 1, context_size: 512 }
`);

interface Answer {
  sentAtMs: number;
  status: number;
  errorType: string | undefined;
}

/**
 * Sends `perSecond` requests a second for `seconds`, whatever the answers (open loop), calling `at(ms)` hooks on the
 * way; resolves with one entry per request sent once every request is answered. A request unanswered 20 s after it
 * was sent is status 0.
 */
async function steadyLoad(
  gateway: RunningGateway,
  perSecond: number,
  seconds: number,
  hooks: Array<{ atMs: number; run: () => void | Promise<void> }>,
): Promise<Answer[]> {
  const started = performance.now();
  const pending: Array<Promise<Answer>> = [];
  const hookRuns: Array<Promise<void>> = [];
  const left = [...hooks];
  for (let i = 0; i < perSecond * seconds; i++) {
    const dueMs = (i * 1000) / perSecond;
    const waitMs = dueMs - (performance.now() - started);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    while (left.length > 0 && left[0]!.atMs <= dueMs) hookRuns.push(Promise.resolve(left.shift()!.run()));
    pending.push(oneRequest(gateway, dueMs));
  }
  await Promise.all(hookRuns);
  return Promise.all(pending);
}

async function oneRequest(gateway: RunningGateway, sentAtMs: number): Promise<Answer> {
  const answer = postJson(`${gateway.url}/v1/generate`, {
    model_id: 'qwen2',
    inputs: 'Once upon a time',
    parameters: { max_new_tokens: 24 },
  });
  const unanswered = new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000).unref());
  const result = await Promise.race([answer, unanswered]).catch(() => null);
  if (!result) return { sentAtMs, status: 0, errorType: undefined };
  return { sentAtMs, status: result.status, errorType: result.status === 200 ? undefined : result.json().error_type };
}

const pidOf = async (gateway: RunningGateway, replica: number): Promise<number> =>
  (await modelView(gateway.url, 'qwen2')).replicas[replica].backend.pid;

const callsOk = async (gateway: RunningGateway, replica: number): Promise<number> => {
  const text = (await request(`${gateway.url}/metrics`)).text;
  const line = new RegExp(
    `^sluice_replica_calls_total\\{model="qwen2",replica="${replica}",outcome="ok"\\} (\\d+)$`,
    'm',
  );
  return Number(text.match(line)?.[1] ?? NaN);
};

function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status, errorType } of answers) {
    const key = status === 200 ? '200' : `${status} ${errorType}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('a model of two local engine replicas (real engines) under steady load', () => {
  let gateway: RunningGateway;
  const stopped: number[] = [];

  before(async () => {
    gateway = await startGateway(config(), {
      env: {
        HEALTH_POLL_MS: '200',
        HEALTH_TIMEOUT_MS: '500',
        // The stopped engine must come back on SIGCONT, not be replaced: this test is about ejection.
        ENGINE_WATCHDOG_FAILURES: '0',
        OUTLIER_FAILURES: '1',
        OUTLIER_EJECTION_MS: '2000',
      },
    });
    await waitForModel(gateway.url, 'qwen2', (view) => view.replicas.every((r: any) => r.state === 'ready'));
  });
  after(async () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await gateway?.stop();
  });

  it('SIGKILL of one engine: only the requests it held fail, each with one 502; the rest are served', async () => {
    const killedPid = await pidOf(gateway, 1);
    let killedAtMs = 0;
    const answers = await steadyLoad(gateway, 20, 30, [
      {
        atMs: 6000,
        run: () => {
          killedAtMs = 6000;
          process.kill(killedPid, 'SIGKILL');
        },
      },
    ]);
    const counts = tally(answers);
    assert.equal(answers.length, 600);
    assert.equal(counts['0'], undefined, `every request answered: ${JSON.stringify(counts)}`);
    const failed = answers.filter((answer) => answer.status !== 200);
    for (const answer of failed)
      assert.equal(`${answer.status} ${answer.errorType}`, '502 upstream', JSON.stringify({ counts, failed }));
    // At most the requests that were running on the killed engine: its share of the cap.
    assert.ok(failed.length <= MAX_CONCURRENT, JSON.stringify(counts));
    for (const answer of failed) assert.ok(answer.sentAtMs < killedAtMs + 100, 'sent before the kill');
    const view = await waitForModel(gateway.url, 'qwen2', (v) => v.replicas[1].state === 'ready', 30_000);
    assert.notEqual(view.replicas[1].backend.pid, killedPid);
    assert.equal(view.replicas[1].restarts, 1);
  });

  it('SIGSTOP of one engine: its requests time out, it is ejected, traffic moves, and it serves again after SIGCONT', async () => {
    const stoppedPid = await pidOf(gateway, 0);
    let okOnStoppedAtCont = NaN;
    const answers = await steadyLoad(gateway, 10, 20, [
      {
        atMs: 3000,
        run: () => {
          stopped.push(stoppedPid);
          process.kill(stoppedPid, 'SIGSTOP');
        },
      },
      {
        atMs: 10_000,
        run: async () => {
          const view = await modelView(gateway.url, 'qwen2');
          assert.equal(view.replicas[0].ejections, 1, 'ejected while stopped');
          assert.notEqual(view.replicas[0].state, 'ready');
          okOnStoppedAtCont = await callsOk(gateway, 0);
          process.kill(stoppedPid, 'SIGCONT');
        },
      },
    ]);
    const counts = tally(answers);
    assert.equal(answers.length, 200);
    assert.equal(counts['0'], undefined, `every request answered: ${JSON.stringify(counts)}`);
    const failed = answers.filter((answer) => answer.status !== 200);
    for (const answer of failed) assert.equal(`${answer.status} ${answer.errorType}`, '504 timeout');
    assert.ok(failed.length >= 1, 'the requests on the stopped engine time out');
    // Traffic moved: nothing sent a second after the stop failed.
    for (const answer of failed) assert.ok(answer.sentAtMs < 4000, JSON.stringify(failed));
    const view = await waitForModel(
      gateway.url,
      'qwen2',
      (v) => v.replicas[0].state === 'ready' && !v.replicas[0].ejected,
    );
    assert.equal(view.replicas[0].backend.pid, stoppedPid, 'the same engine, not a replacement');
    assert.ok((await callsOk(gateway, 0)) > okOnStoppedAtCont, 'served by the resumed engine after SIGCONT');
  });
});
