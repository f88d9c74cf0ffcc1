import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine.js';
import { validateGrafanaDashboard } from '../support/monitoring/index.js';

/**
 * Quick checks of the provisioned dashboards; that every panel query returns data from real Graphite and
 * Prometheus is metrics-reconciliation.e2e.ts's job.
 */
const DIR = `${REPO_ROOT}monitoring/grafana/dashboards/`;
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('Grafana dashboards in monitoring/grafana/dashboards/', () => {
  it('are the overview and the per-model dashboard, with distinct uids', () => {
    const uids = files.map((f) => JSON.parse(readFileSync(DIR + f, 'utf8')).uid);
    assert.deepEqual(files.sort(), ['sluice-model.json', 'sluice-overview.json']);
    assert.equal(new Set(uids).size, uids.length);
  });

  for (const file of files) {
    it(`${file} validates against Grafana's dashboard schema and our provisioning`, () => {
      assert.deepEqual(validateGrafanaDashboard(JSON.parse(readFileSync(DIR + file, 'utf8'))), []);
    });
  }

  it("the overview shows the guide's keys: requests.total, request.latency p50/p95/p99, tokens per model, timeouts", () => {
    const targets = JSON.parse(readFileSync(`${DIR}sluice-overview.json`, 'utf8'))
      .panels.flatMap((p: any) => p.targets ?? [])
      .map((t: any) => t.target ?? '')
      .join('\n');
    for (const path of [
      'stats.counters.requests.total.rate',
      'stats.counters.requests.model.*.rate',
      'stats.timers.request.latency.upper_50',
      'stats.timers.request.latency.upper_95',
      'stats.timers.request.latency.upper_99',
      'stats.counters.requests.model.*.input_tokens.rate',
      'stats.counters.requests.model.*.output_tokens.rate',
      'stats.counters.requests.errors.timeout.count',
      'stats.gauges.model.*.queued',
      'stats.gauges.model.*.ready',
      'stats.gauges.model.*.cold_start_ms',
    ]) {
      assert.ok(targets.includes(path), path);
    }
  });
});
