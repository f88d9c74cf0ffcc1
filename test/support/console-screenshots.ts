import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../../apps/bench/test/bench-process.js';
import { openConsole } from './console-page.js';
import { REPO_ROOT } from './engine.js';
import { localModelsYaml, startGateway, writeModelsConfig } from './gateway.js';
import { request } from './http-client.js';

/**
 * Draws docs/console/*.png again: the console on a laptop-sized window, against the gateway with the shipped models,
 * idle, under the bench's load, and with an engine just killed.
 *   npm run console:screenshots   (builds with tsconfig.json: this file is test support, not in the runtime build)
 * The registry declares config/models.gpu.yaml's 12 GB GPU and budgets, so the GPU bar has something to show; the
 * engines run on CPU all the same, and without nvidia-smi nothing is measured.
 */
const OUT = `${REPO_ROOT}docs/console/`;
const VIEWPORT = { width: 1366, height: 768 };

const yaml = localModelsYaml()
  .replace('gpus: []', 'gpus: [{ id: "0", memory_gb: 12 }]')
  .replace('vram_budget_gb: 0\n    gpu: null', 'vram_budget_gb: 5.9\n    gpu: "0"')
  .replace('vram_budget_gb: 0\n    gpu: null', 'vram_budget_gb: 6.1\n    gpu: "0"');

mkdirSync(OUT, { recursive: true });
const benchOut = mkdtempSync(join(tmpdir(), 'sluice-console-shots-'));
const gateway = await startGateway(writeModelsConfig(yaml));
try {
  const console_ = await openConsole(gateway.url, { viewport: VIEWPORT });
  try {
    const shoot = async (name: string) => {
      await console_.waitForUpdateAfter(Date.now());
      await console_.page.screenshot({ path: `${OUT}${name}.png` });
      console.log(`wrote docs/console/${name}.png`);
    };
    for (const id of ['qwen2', 'llama3']) await console_.waitForState(id, 'ready');
    await shoot('idle');

    const bench = runBench(
      [
        'run',
        '--url',
        gateway.url,
        '--concurrency',
        '4',
        '--duration',
        '20s',
        '--out',
        benchOut,
        '--no-html',
        '--quiet',
      ],
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    await shoot('under-load');
    const exit = await bench;
    if (exit.code !== 0) throw new Error(`bench exited ${exit.code}: ${exit.stderr}`);

    const { backend } = (await request(`${gateway.url}/models/llama3`)).json<{ backend: { pid: number } }>();
    process.kill(backend.pid, 'SIGKILL');
    await console_.waitForState('llama3', 'ready', { not: true, timeoutMs: 10_000 });
    await console_.page.screenshot({ path: `${OUT}failed-model.png` });
    console.log('wrote docs/console/failed-model.png');
  } finally {
    await console_.close();
  }
} finally {
  await gateway.stop();
  rmSync(benchOut, { recursive: true, force: true });
}
