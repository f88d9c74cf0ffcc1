import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateApiKey } from '#gateway/auth/api-key-issuing';
import { startGateway, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { startPrometheus, type Prometheus } from '#test-support/monitoring/index';

/**
 * A real Prometheus scrapes a gateway whose /metrics needs METRICS_TOKEN, as monitoring/prometheus/prometheus.yml and
 * DEPLOY.md tell it to: the token in a file named by `authorization: { credentials_file }`. Without it, the target
 * is down (401).
 */
describe('Prometheus and METRICS_TOKEN', () => {
  let gateway: RunningGateway;
  const prometheuses: Prometheus[] = [];
  const token = generateApiKey();

  before(async () => {
    gateway = await startGateway(
      writeModelsConfig(`gpus: []
readiness: { required: all }
models:
  - id: qwen2
    quantization: gptq-int4
    backend: { type: tgi, url: "http://127.0.0.1:9" }
`),
      { waitReady: false, env: { AUTH: 'off', HOST: '127.0.0.1', METRICS_TOKEN: token } },
    );
  });
  after(async () => {
    for (const prometheus of prometheuses) await prometheus.stop();
    await gateway?.stop();
  });

  it('scrapes with the token from credentials_file, and gets 401 (down) without it', async () => {
    const credentialsFile = join(mkdtempSync(join(tmpdir(), 'sluice-metrics-token-')), 'metrics-token');
    writeFileSync(credentialsFile, `${token}\n`); // as `kubectl create secret` or an editor leaves it
    const target = new URL(gateway.url).host;
    const withToken = await startPrometheus({ scrapeTargets: [target], job: 'with-token', credentialsFile });
    prometheuses.push(withToken);
    const without = await startPrometheus({ scrapeTargets: [target], job: 'without-token' });
    prometheuses.push(without);
    const now = Date.now();
    const [scraped] = await withToken.waitForScrapeAfter(now);
    assert.equal(scraped!.up, 1);
    const series = await withToken.query('process_resident_memory_bytes{job="with-token"}');
    assert.ok(series.length === 1 && series[0]!.value > 0, "the gateway's own series arrived");
    const [refused] = await without.waitForScrapeAfter(now);
    assert.equal(refused!.up, 0);
  });
});
