// CLI: validates a GGUF, loads it with node-llama-cpp (CPU, one thread per context, which is
// what runs fastest on small machines) and prints a greedy continuation with its speed.
//   npm run model:try -- models/llama3-tiny-q8_0.gguf --prompt "The " --tokens 64
import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { validateGgufFile } from '#gguf';
import { runCli, UsageError } from './cli.js';

const usage = `usage: try-model FILE.gguf [--prompt TEXT] [--tokens N] [--threads N]`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      prompt: { type: 'string', default: 'The ' },
      tokens: { type: 'string', default: '64' },
      threads: { type: 'string', default: '1' },
    },
  });
  const [path] = positionals;
  if (path === undefined || positionals.length > 1) throw new UsageError('give exactly one GGUF file');
  const maxTokens = Number(values.tokens);
  await validateGgufFile(path);
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const loadStarted = performance.now();
  const model = await llama.loadModel({ modelPath: path });
  const prompt = model.tokenize(values.prompt);
  const context = await model.createContext({
    threads: Number(values.threads),
    contextSize: Math.min(model.trainContextSize, prompt.length + maxTokens + 1),
  });
  const loadMs = performance.now() - loadStarted;
  const tokens = [];
  let firstTokenAt = 0;
  for await (const token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
    if (tokens.length === 0) firstTokenAt = performance.now();
    if (token === model.tokens.eos) break;
    tokens.push(token);
    if (tokens.length >= maxTokens) break;
  }
  const seconds = (performance.now() - firstTokenAt) / 1000;
  const perSecond = tokens.length > 1 ? (tokens.length - 1) / seconds : 0;
  console.log(JSON.stringify(values.prompt + model.detokenize(tokens)));
  console.log(
    `${path}: ${((await stat(path)).size / 2 ** 20).toFixed(1)} MiB, loaded in ${loadMs.toFixed(0)} ms, ` +
      `${tokens.length} tokens at ${perSecond.toFixed(1)} tok/s (threads ${values.threads})`,
  );
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

await runCli(main, usage);
