import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseRegistryConfig } from '../parse-registry-config.js';
import { RegistryConfigError } from '../registry-config-error.js';

/** The repository's config/ folder, found from this file whether it runs from src or from dist. */
export function configDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'config', 'models.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('config/models.yaml not found above the test file');
    dir = parent;
  }
  return join(dir, 'config');
}

/** A small valid config in YAML's data model (snake_case), for tests to break one key at a time. */
export function validRawConfig(): Record<string, any> {
  return {
    gpus: [{ id: '0', memory_gb: 12 }],
    readiness: { required: 'all' },
    defaults: { max_concurrent: 4, max_queued: 256, max_new_tokens: 512, default_max_new_tokens: 128 },
    models: [
      {
        id: 'qwen2',
        aliases: ['qwen2-7b-instruct'],
        quantization: 'gptq-int4',
        vram_budget_gb: 6,
        gpu: '0',
        backend: { type: 'tgi', url: 'http://tgi-qwen2:80' },
      },
      {
        id: 'llama3',
        aliases: ['llama3-8b-instruct'],
        quantization: 'gguf-q8_0',
        backend: { type: 'local', model_path: 'models/llama3-tiny-q8_0.gguf', engine: { context_size: 1024 } },
      },
    ],
  };
}

export function parseRaw(raw: unknown) {
  return parseRegistryConfig(YAML.stringify(raw), 'test.yaml');
}

/** The problem lines of a refused config; fails if the config is accepted. */
export function problemsOf(raw: unknown): readonly string[] {
  return problemsOfText(YAML.stringify(raw));
}

export function problemsOfText(text: string): readonly string[] {
  try {
    parseRegistryConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof RegistryConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}
