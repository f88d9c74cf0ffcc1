import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SHIPPED_MODELS } from '#test-support/engine';
import { startGateway, waitForModel, writeModelsConfig, type RunningGateway } from '#test-support/gateway';
import { request } from '#test-support/http-client';

/**
 * A stand-in for `nvidia-smi` (no GPU here), named as one: it answers the two queries the gateway makes in the
 * documented CSV form (`--format=csv,noheader,nounits`: comma and space between fields, MiB without a unit; no line
 * and exit 0 when no process uses the GPU). Per-process
 * lines come from a file the test writes, so that they can name the engine's real pid; while another file exists, the
 * next call fails as nvidia-smi does when it cannot reach the driver (exit 9), and removes it.
 */
function nvidiaSmiStandIn(dir: string, appsFile: string, failOnceFile: string): void {
  const script = `#!/bin/sh
# nvidia-smi stand-in for tests: not NVIDIA's tool.
if [ -f "${failOnceFile}" ]; then
  rm -f "${failOnceFile}"
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
  exit 9
fi
case "$*" in
  *--query-gpu=index,name,memory.used,memory.total*) echo "0, NVIDIA Stand-in (test), 6144, 12288" ;;
  *--query-compute-apps=pid,used_memory*) if [ -f "${appsFile}" ]; then cat "${appsFile}"; fi ;;
  *) echo "stand-in: unexpected arguments: $*" >&2; exit 2 ;;
esac
`;
  const path = join(dir, 'nvidia-smi');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
}

describe('GPU memory against the budget (nvidia-smi stand-in)', () => {
  let gateway: RunningGateway;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nvidia-smi-'));
  const appsFile = join(dir, 'compute-apps.csv');
  const failOnceFile = join(dir, 'fail-once');

  before(async () => {
    nvidiaSmiStandIn(dir, appsFile, failOnceFile);
    const config = writeModelsConfig(`gpus: [{ id: "0", memory_gb: 12 }]
models:
  - id: llama3
    quantization: gguf-q8_0
    vram_budget_gb: 1
    gpu: "0"
    backend:
      type: local
      model_path: ${SHIPPED_MODELS.llama3}
      engine: { context_size: 1024, gpu_layers: 0 }
`);
    gateway = await startGateway(config, { env: { PATH: `${dir}:${process.env['PATH']}` } });
  });
  after(() => gateway?.stop());

  it('flags a model whose process uses more than its budget, in /models and in metrics, and clears it', async () => {
    const { backend } = (await request(`${gateway.url}/models/llama3`)).json();
    // Another process's line, as nvidia-smi lists every compute process on the card.
    writeFileSync(appsFile, `${backend.pid}, 1536\n4242, 700\n`);
    const over = await waitForModel(gateway.url, 'llama3', (v) => v.memory.over_budget === true, 15_000);
    assert.equal(over.memory.gpu_used_mb, 1536);
    const list = (await request(`${gateway.url}/models`)).json();
    assert.deepEqual(list.gpus[0].measured, { name: 'NVIDIA Stand-in (test)', used_mb: 6144, total_mb: 12288 });
    assert.equal(list.gpus[0].budget_in_use_gb, 1);
    const deadline = Date.now() + 5000;
    let metrics = '';
    while (!/^sluice_model_over_budget\{model="llama3"\} 1$/m.test(metrics) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      metrics = (await request(`${gateway.url}/metrics`)).text;
    }
    assert.match(metrics, /^sluice_model_over_budget\{model="llama3"\} 1$/m);
    assert.match(metrics, /^sluice_model_resident\{model="llama3"\} 1$/m);

    writeFileSync(appsFile, `${backend.pid}, 900\n`);
    const within = await waitForModel(gateway.url, 'llama3', (v) => v.memory.over_budget === false, 15_000);
    assert.equal(within.memory.gpu_used_mb, 900);
  });

  it('reads again after nvidia-smi failed once, instead of giving up on the GPU for good', async () => {
    const { backend } = (await request(`${gateway.url}/models/llama3`)).json();
    writeFileSync(failOnceFile, '');
    const deadline = Date.now() + 15_000;
    while (existsSync(failOnceFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(failOnceFile), false, 'the gateway asked nvidia-smi, which failed');
    writeFileSync(appsFile, `${backend.pid}, 2048\n`);
    const read = await waitForModel(gateway.url, 'llama3', (v) => v.memory.gpu_used_mb === 2048, 15_000);
    assert.equal(read.memory.over_budget, true);
  });
});
