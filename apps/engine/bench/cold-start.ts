/**
 * Benchmark (a command, not a test): cold start of the same random-weight model as F16 and as Q4_0 in the local
 * engine. Each run starts a fresh engine process and measures, from the spawn:
 *   - ready:        until GET /health answers 200 (the model is loaded and the engine serves);
 *   - first token:  until the first `data:` event of a POST /generate_stream sent the moment it was ready.
 * Runs alternate F16 and Q4_0 so that drift in the machine's load hits both alike. A third row, the 1 MB model that
 * ships in models/, shows the fixed part of a start (node, llama.cpp's set-up, the context) that no weight format
 * shortens.
 *
 *   npm run bench:cold-start -- [--runs 5] [--params 1B] [--arch llama] [--cache warm|cold|both]
 *
 * warm: the file is in the page cache (read once before the runs). cold: `sync` and `echo 3 >
 * /proc/sys/vm/drop_caches` before every run (needs root; skipped with a note when refused). Missing models are
 * made once with the project's model tool (`npm run model:random`) into models/generated/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isServerProcessMessage } from '#backends';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TYPES = ['F16', 'Q4_0'] as const;
type WeightType = (typeof TYPES)[number];
const FIXED_COST_MODEL = 'models/llama3-tiny-q8_0.gguf';
type CacheMode = 'warm' | 'cold';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    params: { type: 'string', default: '1B' },
    arch: { type: 'string', default: 'llama' },
    cache: { type: 'string', default: 'both' },
    seed: { type: 'string', default: '1' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
if (!['warm', 'cold', 'both'].includes(values.cache))
  throw new Error(`--cache must be warm, cold or both, got ${values.cache}`);

interface Sample {
  readyMs: number;
  firstTokenMs: number;
  /** The engine's own load time, from its `ready` message: model and contexts, without the process start-up. */
  engineLoadMs: number;
}

function modelFile(type: WeightType): string {
  const relative = `models/generated/${values.arch}-${values.params}-${type}.gguf`;
  const path = `${REPO_ROOT}${relative}`;
  if (!existsSync(path)) {
    console.log(`making ${relative} (random weights, seed ${values.seed}) ...`);
    const made = spawnSync(
      process.execPath,
      [
        `${REPO_ROOT}dist/apps/model-tools/src/make-random-model.js`,
        '--arch',
        values.arch,
        '--params',
        values.params,
        '--type',
        type,
        '--seed',
        values.seed,
        '--out',
        path,
      ],
      { stdio: 'inherit' },
    );
    if (made.status !== 0) throw new Error('make-random-model failed');
  }
  return path;
}

function dropPageCache(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

async function readWhole(path: string): Promise<void> {
  for await (const _chunk of createReadStream(path, { highWaterMark: 8 << 20 })) {
    // reading is the point: it puts the file in the page cache
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}

/** Resolves when the first SSE `data:` line arrives. */
function firstStreamedToken(baseUrl: string): Promise<void> {
  const body = JSON.stringify({ inputs: 'The history of the', parameters: { max_new_tokens: 4 } });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}/generate_stream`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`/generate_stream answered ${res.statusCode}`));
          res.resume();
          return;
        }
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          if (text.includes('data:')) {
            resolve();
            req.destroy();
          }
        });
        res.on('end', () => reject(new Error('stream ended without a token')));
      },
    );
    req.on('error', (error) => {
      if (!(error as NodeJS.ErrnoException).code?.startsWith('ECONNRESET')) reject(error);
    });
    req.end(body);
  });
}

async function oneColdStart(path: string): Promise<Sample> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [`${REPO_ROOT}dist/apps/engine/src/main.js`, '--model', path, '--host', '127.0.0.1', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(chunk.toString('utf8'));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let engineLoadMs = NaN;
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message) => {
      if (isServerProcessMessage(message, 'listening')) resolve(message.url);
      if (isServerProcessMessage(message, 'ready')) engineLoadMs = message.loadMs;
    });
    child.on('exit', (code) => reject(new Error(`engine exited (${code}) before listening:\n${output.join('')}`)));
  });
  try {
    for (;;) {
      if ((await httpStatus(`${url}/health`)) === 200) break;
      if (child.exitCode !== null) throw new Error(`engine exited (${child.exitCode}):\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - started;
    await firstStreamedToken(url);
    const firstTokenMs = performance.now() - started;
    return { readyMs, firstTokenMs, engineLoadMs };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${Math.round(x)}`;

async function main(): Promise<void> {
  const files = Object.fromEntries(TYPES.map((type) => [type, modelFile(type)])) as Record<WeightType, string>;
  const [load1] = loadavg();
  console.log(
    `load average ${load1!.toFixed(2)} at start${load1! > 1 ? ' (busy machine: figures will be noisy)' : ''}`,
  );
  for (const type of TYPES)
    console.log(
      `${type}: ${files[type].slice(REPO_ROOT.length)} (${(statSync(files[type]).size / 2 ** 20).toFixed(0)} MiB)`,
    );

  let modes: CacheMode[] = values.cache === 'both' ? ['warm', 'cold'] : [values.cache as CacheMode];
  if (modes.includes('cold') && !dropPageCache()) {
    console.log('cold: cannot write /proc/sys/vm/drop_caches (needs root): cold-cache runs skipped');
    modes = modes.filter((m) => m !== 'cold');
  }

  const results: Array<{ mode: CacheMode; type: WeightType | 'tiny'; samples: Sample[] }> = [];
  for (const mode of modes) {
    const samples: Record<WeightType, Sample[]> = { F16: [], Q4_0: [] };
    if (mode === 'warm') for (const type of TYPES) await readWhole(files[type]);
    for (let run = 1; run <= runs; run++) {
      for (const type of TYPES) {
        if (mode === 'cold') dropPageCache();
        const sample = await oneColdStart(files[type]);
        samples[type].push(sample);
        console.log(
          `${mode} ${type} run ${run}/${runs}: ready ${ms(sample.readyMs)} ms, first token ${ms(sample.firstTokenMs)} ms (engine load ${sample.engineLoadMs} ms)`,
        );
      }
    }
    for (const type of TYPES) results.push({ mode, type, samples: samples[type] });
  }
  const fixed: Sample[] = [];
  for (let run = 1; run <= runs; run++) fixed.push(await oneColdStart(`${REPO_ROOT}${FIXED_COST_MODEL}`));
  results.push({ mode: 'warm', type: 'tiny', samples: fixed });

  const cached = Number(readFileSync('/proc/meminfo', 'utf8').match(/^Cached:\s+(\d+)/m)?.[1] ?? NaN);
  console.log(`\npage cache now ${(cached / 2 ** 20).toFixed(1)} GiB; load average ${loadavg()[0]!.toFixed(2)}`);
  console.log(
    `\n| cache | weights | file size | ready mean | ready median | first token mean | first token median | runs |`,
  );
  console.log(`|---|---|---|---|---|---|---|---|`);
  const fileOf = (type: WeightType | 'tiny') => (type === 'tiny' ? `${REPO_ROOT}${FIXED_COST_MODEL}` : files[type]);
  for (const { mode, type, samples } of results) {
    const ready = samples.map((s) => s.readyMs);
    const first = samples.map((s) => s.firstTokenMs);
    const label = type === 'tiny' ? `${FIXED_COST_MODEL} (fixed cost)` : type;
    console.log(
      `| ${mode} | ${label} | ${(statSync(fileOf(type)).size / 2 ** 20).toFixed(type === 'tiny' ? 1 : 0)} MiB | ${ms(mean(ready))} ms | ${ms(median(ready))} ms | ` +
        `${ms(mean(first))} ms | ${ms(median(first))} ms | ${samples.length} |`,
    );
  }
  console.log(
    `\n| cache | Q4_0 / F16, ready (mean) | Q4_0 / F16, first token (mean) | first token, median | shorter by (first token, mean) | seed target: 60 % shorter |`,
  );
  console.log(`|---|---|---|---|---|---|`);
  for (const mode of modes) {
    const of = (type: WeightType) => results.find((r) => r.mode === mode && r.type === type)!.samples;
    const ratio = (pick: (s: Sample) => number, stat: (xs: number[]) => number) =>
      stat(of('Q4_0').map(pick)) / stat(of('F16').map(pick));
    const firstRatio = ratio((s) => s.firstTokenMs, mean);
    console.log(
      `| ${mode} | ${ratio((s) => s.readyMs, mean).toFixed(2)} | ${firstRatio.toFixed(2)} | ${ratio((s) => s.firstTokenMs, median).toFixed(2)} | ` +
        `${Math.round((1 - firstRatio) * 100)} % | ${firstRatio <= 0.4 ? 'met' : 'not met'} |`,
    );
  }
}

await main();
