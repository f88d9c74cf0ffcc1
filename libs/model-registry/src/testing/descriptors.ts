import type { ModelDescriptor } from '../registry-config.js';
import { BUILTIN_MODEL_LIMITS } from '../registry-defaults.js';

/** A valid descriptor for tests of live state; override what the test is about. */
export function descriptor(overrides: Partial<ModelDescriptor> = {}): ModelDescriptor {
  return {
    id: 'qwen2',
    aliases: [],
    backend: { type: 'tgi', url: 'http://tgi-qwen2:80' },
    quantization: 'gptq-int4',
    vramBudgetGb: 0,
    gpu: null,
    ...structuredClone(BUILTIN_MODEL_LIMITS),
    ...overrides,
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
