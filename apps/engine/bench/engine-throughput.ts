/**
 * Benchmark (a command, not a test): tokens/s through the engine's HTTP API at several concurrencies, beside the
 * raw node-llama-cpp ceiling for the same model, contexts, sequences and threads, measured in the same run.
 *
 *   npm run bench:engine -- [--model FILE] [--concurrency 1,4,8] [--contexts 2] [--sequences 4] [--threads 1]
 *                           [--tokens 64] [--seconds 10]
 *
 * Without --model it uses (and makes once, with the project's model tool) a random ~134M-parameter Q4_0 llama model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { REPO_ROOT, startReadyEngine } from '#test-support/engine';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    concurrency: { type: 'string', default: '1,4,8' },
    contexts: { type: 'string', default: '2' },
    sequences: { type: 'string', default: '4' },
    threads: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
  },
});
const concurrencies = values.concurrency.split(',').map(Number);
const layout = {
  contexts: Number(values.contexts),
  sequences: Number(values.sequences),
  threads: Number(values.threads),
};
const tokensPerRequest = Number(values.tokens);
const seconds = Number(values.seconds);
const PROMPT = 'The history of the';

function defaultModel(): string {
  const path = `${REPO_ROOT}models/generated/llama-134M-Q4_0.gguf`;
  if (!existsSync(path)) {
    console.log(`making ${path} (random weights) ...`);
    const made = spawnSync(
      process.execPath,
      [
        `${REPO_ROOT}dist/apps/model-tools/src/make-random-model.js`,
        '--arch',
        'llama',
        '--params',
        '134M',
        '--type',
        'Q4_0',
        '--seed',
        '1',
        '--out',
        path,
      ],
      { stdio: 'inherit' },
    );
    if (made.status !== 0) throw new Error('make-random-model failed');
  }
  return path;
}

/** Runs `workers` closed loops for `seconds`; each loop repeats `once()` and adds up the tokens it reports. */
async function closedLoop(workers: number, once: (worker: number) => Promise<number>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const counts = await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      let tokens = 0;
      while (performance.now() < deadline) tokens += await once(worker);
      return tokens;
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return counts.reduce((a, b) => a + b, 0) / elapsed;
}

async function generateRaw(sequence: LlamaContextSequence, prompt: Token[]): Promise<number> {
  await sequence.clearHistory();
  let generated = 0;
  for await (const _token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    if (++generated >= tokensPerRequest) break;
  }
  return generated;
}

/** The ceiling: the same generations straight on node-llama-cpp in this process, no HTTP, no engine. */
async function openRawModel(modelPath: string) {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never' });
  const model = await llama.loadModel({ modelPath });
  const contexts = await Promise.all(
    Array.from({ length: layout.contexts }, () =>
      model.createContext({ contextSize: 512, sequences: layout.sequences, threads: layout.threads, batchSize: 512 }),
    ),
  );
  // Spread workers over contexts the way the engine's pool does: least busy context first.
  const sequences = Array.from({ length: layout.sequences }, () => contexts.map((c) => c.getSequence())).flat();
  const prompt = [
    ...(model.tokens.bos !== null && model.tokens.shouldPrependBosToken ? [model.tokens.bos] : []),
    ...model.tokenize(PROMPT),
  ];
  return {
    async measure(concurrency: number): Promise<number> {
      await generateRaw(sequences[0]!, prompt); // warm-up
      return closedLoop(concurrency, (worker) => generateRaw(sequences[worker]!, prompt));
    },
    async close() {
      for (const context of contexts) await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/**
 * One streamed generation, the way a gateway calls the engine: SSE without `details`, one event per token.
 * (With `details: true` the engine also computes every token's logprob, which the raw ceiling does not.)
 */
function streamGenerate(agent: http.Agent, url: string): Promise<number> {
  const body = JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: tokensPerRequest } });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/generate_stream`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const events = text
            .split('\n\n')
            .filter((frame) => frame.startsWith('data:'))
            .map((frame) => JSON.parse(frame.slice(5)) as { error?: unknown; generated_text?: unknown });
          const last = events.at(-1);
          if (res.statusCode !== 200 || !last || last.error !== undefined || typeof last.generated_text !== 'string') {
            reject(new Error(`HTTP ${res.statusCode}: ${text.slice(-300)}`));
          } else resolve(events.length);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const modelPath = values.model ?? defaultModel();
  console.log(`model ${modelPath}`);
  console.log(
    `layout: ${layout.contexts} context(s) x ${layout.sequences} sequence(s), ${layout.threads} thread(s) per context; ` +
      `${tokensPerRequest} new tokens per request, greedy; ${seconds} s per point; raw and engine alternate per point`,
  );
  const raw = await openRawModel(modelPath);
  const engine = await startReadyEngine(modelPath, [
    '--contexts',
    String(layout.contexts),
    '--sequences',
    String(layout.sequences),
    '--threads',
    String(layout.threads),
    '--context-size',
    '512',
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  console.log('\nconcurrency  raw node-llama-cpp tok/s  engine HTTP tok/s  ratio');
  try {
    for (const c of concurrencies) {
      const rawRate = await raw.measure(c);
      await streamGenerate(agent, engine.url); // warm-up
      const engineRate = await closedLoop(c, () => streamGenerate(agent, engine.url));
      console.log(
        `${String(c).padStart(11)}  ${rawRate.toFixed(1).padStart(23)}  ${engineRate.toFixed(1).padStart(17)}  ${(engineRate / rawRate).toFixed(3)}`,
      );
    }
  } finally {
    agent.destroy();
    await engine.stop();
    await raw.close();
  }
}

await main();
