import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openConsole, type ConsolePage, type ConsoleRow } from '#test-support/console-page';
import {
  localModelsYaml,
  startGateway,
  waitForModel,
  writeModelsConfig,
  type RunningGateway,
} from '#test-support/gateway';
import { request } from '#test-support/http-client';
import { runBench } from '../../bench/test/bench-process.js';

const MODELS = ['qwen2', 'llama3'] as const;
const LOAD_S = 12;

/** Within 20 % of the bench's own figure. */
function assertAgrees(shown: number | null, bench: number | null, what: string): void {
  process.stdout.write(`${what}: page ${shown}, bench ${bench}\n`);
  assert.ok(shown !== null && bench !== null && bench > 0, `${what}: page ${shown}, bench ${bench}`);
  assert.ok(
    Math.abs(shown / bench - 1) <= 0.2,
    `${what}: page ${shown}, bench ${bench} (${((shown / bench - 1) * 100).toFixed(1)} %)`,
  );
}

/**
 * The console in Debian's headless Chromium against the gateway with the shipped models and their real engines: under
 * load from the bench CLI it shows both models ready with the request rates and latencies the bench measured; when an
 * engine is SIGKILLed the page, never reloaded, shows the model fall and come back.
 */
describe('the admin console in a browser, under load and through an engine crash', () => {
  let gateway: RunningGateway;
  let console_: ConsolePage;
  let out: string;

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'sluice-console-'));
    gateway = await startGateway(writeModelsConfig(localModelsYaml()));
    console_ = await openConsole(gateway.url);
    // Set once: still there at the end only if the page never reloaded.
    await console_.page.evaluate(() => ((globalThis as any).loadedOnce = true));
  });
  after(async () => {
    try {
      await console_?.close();
    } finally {
      await gateway?.stop();
      if (out) rmSync(out, { recursive: true, force: true });
    }
  });

  it('shows both models ready, then the rates and latencies the bench measured (within 20 %)', async () => {
    for (const id of MODELS) await console_.waitForState(id, 'ready');
    const idle = await console_.rows();
    assert.deepEqual(Object.keys(idle).sort(), [...MODELS].sort());
    for (const id of MODELS) assert.equal(idle[id]!.state, 'ready');

    const bench = runBench(
      [
        'run',
        '--url',
        gateway.url,
        '--concurrency',
        '4',
        '--duration',
        `${LOAD_S}s`,
        '--out',
        out,
        '--no-html',
        '--quiet',
      ],
      60_000,
    );
    let done = false;
    void bench.finally(() => (done = true));
    // What the page shows while the load runs: its rates are over the time since the first answer.
    let duringLoad: Record<string, ConsoleRow> | undefined;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await console_.rows();
      if (!done) duringLoad = rows;
    }
    const exit = await bench;
    assert.equal(exit.code, 0, `bench: ${exit.stderr}`);
    const ended = Date.now();
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));

    // The window now holds exactly the bench's requests: the page's percentiles are over the same answers.
    await console_.waitForUpdateAfter(ended);
    const afterLoad = await console_.rows();
    for (const id of MODELS) {
      const measured = result.summary.per_model[id];
      assert.ok(measured.requests.ok > 10, `${id}: ${measured.requests.ok} answers`);
      assert.equal(measured.requests.failed, 0);
      const shown = afterLoad[id]!;
      assert.equal(shown.state, 'ready');
      assert.ok(duringLoad![id]!.requestsPerS! > 0, `${id} shows a request rate under load`);
      assertAgrees(duringLoad![id]!.requestsPerS, measured.throughput.responses_per_s, `${id} requests/s`);
      assertAgrees(shown.latencyP50, measured.latency_ms.e2e.p50, `${id} latency p50`);
      assertAgrees(shown.latencyP99, measured.latency_ms.e2e.p99, `${id} latency p99`);
      assertAgrees(shown.ttftP50, measured.latency_ms.server_ttft.p50, `${id} time to first token p50`);
      assert.equal(shown.errors, '—');
    }
  });

  it('shows a SIGKILLed engine unhealthy, with why, and then ready again, without a reload', async () => {
    const before = (await request(`${gateway.url}/models/llama3`)).json();
    process.kill(before.backend.pid, 'SIGKILL');
    const { page } = console_;
    await console_.waitForState('llama3', 'ready', { not: true, timeoutMs: 10_000 });
    const fallen = (await console_.rows())['llama3']!;
    assert.ok(['unhealthy', 'starting', 'loading'].includes(fallen.state), fallen.state);
    // Even if the page's poll fell between unhealthy and the restart, its list of changes shows the fall and why.
    const change = page.locator('#changes li[data-model="llama3"][data-to="unhealthy"]').first();
    await change.waitFor({ timeout: 5000 });
    assert.match((await change.textContent())!, /llama3 ready → unhealthy/);
    assert.ok(((await change.locator('.reason').textContent()) ?? '').trim().length > 0, 'the change says why');

    await waitForModel(
      gateway.url,
      'llama3',
      (view) => view.state === 'ready' && view.backend.pid !== before.backend.pid,
    );
    await console_.waitForState('llama3', 'ready', { timeoutMs: 10_000 });
    assert.equal((await console_.rows())['qwen2']!.state, 'ready');
    assert.equal(await page.evaluate(() => (globalThis as any).loadedOnce), true, 'the page was never reloaded');
  });
});
