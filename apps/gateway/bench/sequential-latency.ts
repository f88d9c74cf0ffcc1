/**
 * Benchmark (a command, not a test): the latency of sequential /v1/generate calls through the gateway beside the
 * same calls straight to the engine behind it, measured in the same run, alternating so drift hits both alike.
 *
 *   npm run bench:gateway -- [--requests 100] [--model qwen2] [--tokens 32]
 *
 * Starts the gateway with the embedded default (config/models.yaml) on a free port.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '#test-support/engine';
import { startGateway } from '#test-support/gateway';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100' },
    model: { type: 'string', default: 'qwen2' },
    tokens: { type: 'string', default: '32' },
  },
});
const requests = Number(values.requests);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** The one field of a generate answer (or the last stream event) that the paths are compared on. */
interface GeneratedAnswer {
  generated_text?: string;
}

function post(url: string, body: unknown, sse = false): Promise<{ status: number; ms: number; json: GeneratedAnswer }> {
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = (
          sse ? JSON.parse(text.trim().split('\n\n').at(-1)!.slice(5)) : JSON.parse(text)
        ) as GeneratedAnswer;
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Nearest-rank percentile of raw samples. */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

const gateway = await startGateway(`${REPO_ROOT}config/models.yaml`);
try {
  const view = await new Promise<{ backend: { address: string } }>((resolve, reject) =>
    http
      .get(`${gateway.url}/models/${values.model}`, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text) as { backend: { address: string } }));
      })
      .on('error', reject),
  );
  const engineUrl = view.backend.address;
  const inputs = 'The history of the';
  const maxNewTokens = Number(values.tokens);
  const viaGateway = () =>
    post(`${gateway.url}/v1/generate`, {
      model_id: values.model,
      inputs,
      parameters: { max_new_tokens: maxNewTokens },
    });
  const direct = () => post(`${engineUrl}/generate`, { inputs, parameters: { max_new_tokens: maxNewTokens } });
  // What the gateway itself asks of the engine: the stream, with details for the token counts.
  const directStream = () =>
    post(`${engineUrl}/generate_stream`, { inputs, parameters: { max_new_tokens: maxNewTokens, details: true } }, true);

  for (let i = 0; i < 10; i++) await Promise.all([viaGateway(), direct()].map((p) => p)); // warm-up, both paths
  const gatewayMs: number[] = [];
  const directMs: number[] = [];
  const directStreamMs: number[] = [];
  for (let i = 0; i < requests; i++) {
    const a = await direct();
    const b = await viaGateway();
    const c = await directStream();
    if (a.status !== 200 || b.status !== 200 || c.status !== 200)
      throw new Error(`non-200: direct ${a.status}, gateway ${b.status} ${JSON.stringify(b.json)}`);
    if (a.json.generated_text !== b.json.generated_text || c.json.generated_text !== a.json.generated_text) {
      throw new Error('the paths generated different text');
    }
    directMs.push(a.ms);
    gatewayMs.push(b.ms);
    directStreamMs.push(c.ms);
  }
  const row = (name: string, s: number[]) =>
    `${name.padEnd(24)} ${percentile(s, 0.5).toFixed(2).padStart(8)} ${percentile(s, 0.99).toFixed(2).padStart(8)} ${(s.reduce((x, y) => x + y, 0) / s.length).toFixed(2).padStart(8)}`;
  console.log(
    `model ${values.model}, ${requests} sequential requests per path, ${maxNewTokens} new tokens (greedy), keep-alive client`,
  );
  console.log(`${''.padEnd(24)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'mean ms'.padStart(8)}`);
  console.log(row('engine /generate', directMs));
  console.log(row('engine /generate_stream', directStreamMs));
  console.log(row('gateway /v1/generate', gatewayMs));
  console.log(
    `added by the gateway: p50 ${(percentile(gatewayMs, 0.5) - percentile(directMs, 0.5)).toFixed(2)} ms, p99 ${(percentile(gatewayMs, 0.99) - percentile(directMs, 0.99)).toFixed(2)} ms`,
  );
} finally {
  agent.destroy();
  await gateway.stop();
}
