import { parseArgs } from 'node:util';

/** Everything the engine can be told at start-up, by flag or by environment variable (flags win). */
export interface EngineConfig {
  modelPath: string;
  /** Name reported by /info; defaults to the file name without extension. */
  modelId: string;
  host: string;
  port: number;
  /** Independent llama.cpp contexts; each evaluates on its own threads. */
  contexts: number;
  /** Sequences (parallel generations) per context. */
  sequencesPerContext: number;
  /** Tokens each sequence can hold: prompt + generated. */
  contextSize: number;
  /** Threads per context. More than 1 is much slower on small CPUs: add contexts instead (config/README.md). */
  threads: number;
  /** In-flight + waiting requests beyond which the engine answers 429, as TGI does. */
  maxConcurrentRequests: number;
  maxInputTokens: number;
  maxTotalTokens: number;
  /** Model layers to offload to a GPU; 0 keeps everything on the CPU. */
  gpuLayers: number | 'auto';
  maxStopSequences: number;
  maxTopNTokens: number;
  /** Largest accepted request body in bytes (TGI's --payload-limit default). */
  payloadLimit: number;
  /** Compute each streamed token's logprob (costly on CPU with large vocabularies; null otherwise). */
  streamLogprobs: boolean;
}

interface OptionSpec {
  flag: string;
  env: string;
  help: string;
}

const OPTIONS = {
  model: { flag: 'model', env: 'ENGINE_MODEL', help: 'path to a GGUF file (required)' },
  modelId: { flag: 'model-id', env: 'ENGINE_MODEL_ID', help: 'name reported by /info (default: file name)' },
  host: { flag: 'host', env: 'ENGINE_HOST', help: 'address to bind (default 127.0.0.1)' },
  port: { flag: 'port', env: 'ENGINE_PORT', help: 'port to bind (default 8080; 0 picks a free one)' },
  contexts: { flag: 'contexts', env: 'ENGINE_CONTEXTS', help: 'llama.cpp contexts (default 1)' },
  sequences: { flag: 'sequences', env: 'ENGINE_SEQUENCES', help: 'parallel sequences per context (default 4)' },
  contextSize: {
    flag: 'context-size',
    env: 'ENGINE_CONTEXT_SIZE',
    help: 'tokens per sequence (default: min(model train context, 2048))',
  },
  threads: { flag: 'threads', env: 'ENGINE_THREADS', help: 'threads per context (default 1)' },
  maxConcurrentRequests: {
    flag: 'max-concurrent-requests',
    env: 'ENGINE_MAX_CONCURRENT_REQUESTS',
    help: 'admitted requests before 429 (default 128)',
  },
  maxInputTokens: {
    flag: 'max-input-tokens',
    env: 'ENGINE_MAX_INPUT_TOKENS',
    help: 'longest prompt in tokens (default: context size - 1)',
  },
  maxTotalTokens: {
    flag: 'max-total-tokens',
    env: 'ENGINE_MAX_TOTAL_TOKENS',
    help: 'prompt + new tokens (default: context size)',
  },
  gpuLayers: { flag: 'gpu-layers', env: 'ENGINE_GPU_LAYERS', help: 'layers offloaded to a GPU, or "auto" (default 0)' },
  streamLogprobs: {
    flag: 'stream-logprobs',
    env: 'ENGINE_STREAM_LOGPROBS',
    help: '"true": logprob on every streamed token (default false: null)',
  },
} satisfies Record<string, OptionSpec>;

export class ConfigError extends Error {}

function usage(): string {
  const lines = Object.values(OPTIONS).map((o) => `  --${o.flag.padEnd(26)} ${o.env.padEnd(32)} ${o.help}`);
  return `Usage: engine --model FILE [options]\n\n  flag                         environment variable             meaning\n${lines.join('\n')}\n`;
}

/**
 * Reads flags and environment into raw settings. Sizes that depend on the model (context size, token limits)
 * stay undefined here and are settled by {@link resolveModelLimits} once the model's metadata is known.
 */
export function parseEngineConfig(argv: string[], env: NodeJS.ProcessEnv): EngineConfigDraft {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: 'string' as const }])),
      help: { type: 'boolean' as const, short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new ConfigError(usage());
  const raw = (spec: OptionSpec): string | undefined => {
    const value = (values as Record<string, string | undefined>)[spec.flag] ?? env[spec.env];
    return value === undefined || value === '' ? undefined : value;
  };
  const modelPath = raw(OPTIONS.model);
  if (!modelPath)
    throw new ConfigError(`--model (or ${OPTIONS.model.env}) is required: the path of a GGUF file.\n\n${usage()}`);

  const gpuLayersRaw = raw(OPTIONS.gpuLayers);
  return {
    modelPath,
    modelId: raw(OPTIONS.modelId) ?? modelPath.replace(/^.*\//, '').replace(/\.gguf$/i, ''),
    host: raw(OPTIONS.host) ?? '127.0.0.1',
    port: integer(OPTIONS.port, raw(OPTIONS.port), 8080, 0, 65535),
    contexts: integer(OPTIONS.contexts, raw(OPTIONS.contexts), 1, 1, 64),
    sequencesPerContext: integer(OPTIONS.sequences, raw(OPTIONS.sequences), 4, 1, 256),
    contextSize: optionalInteger(OPTIONS.contextSize, raw(OPTIONS.contextSize), 16, 1 << 20),
    threads: integer(OPTIONS.threads, raw(OPTIONS.threads), 1, 1, 256),
    maxConcurrentRequests: integer(OPTIONS.maxConcurrentRequests, raw(OPTIONS.maxConcurrentRequests), 128, 1, 1 << 20),
    maxInputTokens: optionalInteger(OPTIONS.maxInputTokens, raw(OPTIONS.maxInputTokens), 1, 1 << 20),
    maxTotalTokens: optionalInteger(OPTIONS.maxTotalTokens, raw(OPTIONS.maxTotalTokens), 2, 1 << 20),
    gpuLayers: gpuLayersRaw === 'auto' ? 'auto' : integer(OPTIONS.gpuLayers, gpuLayersRaw, 0, 0, 10_000),
    maxStopSequences: 4,
    maxTopNTokens: 5,
    payloadLimit: 2_000_000,
    streamLogprobs: boolean(OPTIONS.streamLogprobs, raw(OPTIONS.streamLogprobs)),
  };
}

export type EngineConfigDraft = Omit<EngineConfig, 'contextSize' | 'maxInputTokens' | 'maxTotalTokens'> & {
  contextSize?: number;
  maxInputTokens?: number;
  maxTotalTokens?: number;
};

/** Settles the model-dependent limits; a total larger than a sequence can hold is refused up front. */
export function resolveModelLimits(draft: EngineConfigDraft, trainContextSize: number): EngineConfig {
  const contextSize = draft.contextSize ?? Math.min(trainContextSize, 2048);
  const maxTotalTokens = draft.maxTotalTokens ?? contextSize;
  if (maxTotalTokens > contextSize) {
    throw new ConfigError(
      `--max-total-tokens ${maxTotalTokens} exceeds --context-size ${contextSize}: a sequence cannot hold it. Lower it or raise --context-size.`,
    );
  }
  const maxInputTokens = draft.maxInputTokens ?? maxTotalTokens - 1;
  if (maxInputTokens >= maxTotalTokens) {
    throw new ConfigError(
      `--max-input-tokens ${maxInputTokens} must be below --max-total-tokens ${maxTotalTokens} to leave room for one new token.`,
    );
  }
  return { ...draft, contextSize, maxTotalTokens, maxInputTokens };
}

function boolean(spec: OptionSpec, value: string | undefined): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new ConfigError(`--${spec.flag} (${spec.env}) must be true or false; got "${value}".`);
}

function integer(spec: OptionSpec, value: string | undefined, fallback: number, min: number, max: number): number {
  return optionalInteger(spec, value, min, max) ?? fallback;
}

function optionalInteger(spec: OptionSpec, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${spec.flag} (${spec.env}) must be an integer from ${min} to ${max}; got "${value}".`);
  }
  return n;
}
