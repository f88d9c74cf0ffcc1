import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyze } from '../metrics/summarize.js';
import { startMockBackend, type RunningMockBackend } from '../mock-backend/mock-backend.js';
import type { ArrivalSink } from './arrival-sink.js';
import { runOpenLoop } from './open-loop.js';
import { LoadProfile } from './profile.js';
import { executeRun, type RunSpec } from './run-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('open loop and coordinated omission', () => {
  let slow: RunningMockBackend;
  before(async () => {
    slow = await startMockBackend({ port: 0, ttftMs: 60, outputTokens: 4 });
  });
  after(() => slow.close());

  const spec = (
    over: Partial<RunSpec> & { rate: number; seconds: number; maxInFlight: number; maxPending?: number },
  ): RunSpec => ({
    target: { url: slow.url, api: 'tgi' },
    workload: {
      models: [{ id: 'm', weight: 1 }],
      languages: ['en'],
      maxNewTokens: [4],
      temperatures: [],
      topP: null,
      streamFraction: 0,
    },
    load: {
      kind: 'open',
      profile: LoadProfile.constant(over.rate, over.seconds * 1000),
      arrivals: 'constant',
      maxInFlight: over.maxInFlight,
      maxPending: over.maxPending ?? 100_000,
    },
    durationMs: over.seconds * 1000,
    warmupMs: 0,
    maxRequests: Infinity,
    seed: 1,
    timeoutMs: 10_000,
    thresholds: { maxLoopDelayMs: 1e9, maxScheduleLagMs: 1e9 },
    ...over,
  });

  it('keeps sending on schedule when the server is slow: more in flight, not fewer sends', async () => {
    const outcome = await executeRun(spec({ rate: 50, seconds: 0.4, maxInFlight: 1000 }));
    assert.equal(outcome.records.length, 20);
    assert.ok(
      outcome.records.every((r) => r.ok),
      JSON.stringify(outcome.records.find((r) => !r.ok)),
    );
    // Each was sent when it was due, though every answer took ≥ 60 ms: a closed loop would have sent ~7.
    const lags = outcome.records.map((r) => r.sent_ms! - r.intended_ms);
    assert.ok(Math.max(...lags) < 50, `schedule lags ${lags}`);
    assert.equal(outcome.load.queued, 0);
  });

  it('measures latency from the intended time when the client had to hold an arrival back', async () => {
    // One connection at a time, answers take ≥ 60 ms, arrivals every 20 ms: sends fall further and further behind.
    const outcome = await executeRun(spec({ rate: 50, seconds: 0.5, maxInFlight: 1 }));
    const { records } = outcome;
    assert.equal(records.length, 25, 'every arrival is in the records: sent or dropped, none skipped');
    const sent = records.filter((r) => r.sent_ms !== null);
    const dropped = records.filter((r) => r.sent_ms === null);
    assert.ok(sent.length >= 3 && sent.length <= 12, `sent ${sent.length}`);
    assert.equal(sent.length + dropped.length, 25);
    assert.ok(dropped.every((r) => r.error_type === 'dropped' && /load ended/.test(r.error!)));
    for (let i = 1; i < sent.length; i++) {
      // Serialised: each went out after the previous answer, so later than meant...
      assert.ok(sent[i]!.sent_ms! >= sent[i - 1]!.end_ms! - 1);
      // ...and its latency counts the wait: end − intended, larger than end − sent by the lag.
      assert.ok(
        sent[i]!.sent_ms! - sent[i]!.intended_ms > 30,
        `request ${i} lag ${sent[i]!.sent_ms! - sent[i]!.intended_ms}`,
      );
    }
    const summary = analyze(records, { window: outcome.window, lateThresholdMs: 10 }).overall.summary;
    const last = sent.at(-1)!;
    assert.equal(summary.latency_ms.e2e.max, Math.round((last.end_ms! - last.intended_ms) * 1000) / 1000);
    assert.ok(summary.latency_ms.e2e.max > last.end_ms! - last.sent_ms! + 50, 'the wait is in the latency');
    assert.ok(summary.requests.late >= sent.length - 1);
    assert.equal(summary.requests.dropped, dropped.length);
    assert.equal(summary.errors_by_type.dropped, dropped.length);
  });

  it('drops and counts arrivals beyond the client queue at once', async () => {
    const outcome = await executeRun(spec({ rate: 100, seconds: 0.2, maxInFlight: 1, maxPending: 2 }));
    const full = outcome.records.filter((r) => r.error_type === 'dropped' && /queue full/.test(r.error!));
    assert.ok(full.length >= 10, `dropped as queue full: ${full.length}`);
    assert.equal(outcome.records.length, 20);
  });

  it('counts timer lag only for arrivals sent when due, and stops after its window', async () => {
    const arrivals = Float64Array.from({ length: 10 }, (_, i) => i * 10);
    const served: number[] = [];
    const dropped: number[] = [];
    const origin = performance.now();
    const clock = () => performance.now() - origin;
    const sink: ArrivalSink = {
      issue: async (id) => {
        await sleep(30);
        served.push(id);
      },
      drop: (id) => dropped.push(id),
    };
    const outcome = await runOpenLoop(
      { arrivals, startMs: clock(), stopAfterMs: 200, maxInFlight: 1, maxPending: 100 },
      sink,
      clock,
    );
    assert.equal(outcome.timerLagMs.length, 1, 'only the first went out when due; the rest waited for the slot');
    assert.equal(outcome.queued, 9);
    assert.equal(served.length + dropped.length, 10);
    assert.deepEqual(
      served,
      [...served].sort((a, b) => a - b),
      'FIFO',
    );
    assert.ok(dropped.length >= 1, 'the load ended with arrivals still waiting');
    assert.equal(outcome.dropped, dropped.length);
  });
});
