// Loads a GGUF with node-llama-cpp (CPU, one thread) and decodes greedily: what the tests use to
// prove that a file we wrote really runs.
import type { Llama, Token } from 'node-llama-cpp';

let llama: Promise<Llama> | undefined;

export interface Generation {
  readonly promptTokens: number[];
  readonly tokens: number[];
  readonly text: string;
}

export async function generateGreedy(modelPath: string, prompt: string, maxTokens: number): Promise<Generation> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  llama ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await (await llama).loadModel({ modelPath });
  try {
    const context = await model.createContext({ threads: 1, contextSize: 128 });
    const promptTokens = model.tokenize(prompt);
    const tokens: Token[] = [];
    for await (const token of context.getSequence().evaluate(promptTokens, { temperature: 0 })) {
      tokens.push(token);
      if (tokens.length >= maxTokens) break;
    }
    await context.dispose();
    return { promptTokens: promptTokens.map(Number), tokens: tokens.map(Number), text: model.detokenize(tokens) };
  } finally {
    await model.dispose();
  }
}
