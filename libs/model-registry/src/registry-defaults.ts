import type { DispatchConfig, LocalEngineSettings, Timeouts } from './registry-config.js';

/** What a model gets when neither it nor the `defaults:` block says otherwise (config/README.md lists them). */
export const BUILTIN_MODEL_LIMITS = {
  maxConcurrent: 4,
  maxQueued: 256,
  // Admission refuses a request predicted to wait longer (libs/dispatch admission-rule.ts): a second of waiting plus a
  // generation of 128 tokens keeps the guide's P99 < 1.5 s. The dispatch queue's own default is the same number.
  maxQueueWaitMs: 1_000,
  maxNewTokens: 512,
  defaultMaxNewTokens: 128,
  timeouts: {
    connectMs: 2_000,
    firstByteMs: 30_000,
    interTokenMs: 10_000,
    totalMs: 60_000,
    // Loading a model and warming it up: minutes for a 7B GPTQ model in TGI, seconds for the shipped GGUFs.
    startupMs: 120_000,
  } satisfies Timeouts,
};

export type ModelLimits = typeof BUILTIN_MODEL_LIMITS;

/** The local engine's own defaults (apps/engine/src/config.ts), so that an omitted key means the same in both. */
export const LOCAL_ENGINE_DEFAULTS: LocalEngineSettings = {
  contexts: 1,
  sequences: 4,
  contextSize: null,
  threads: 1,
  gpuLayers: 0,
  maxConcurrentRequests: 128,
};

export const LOCAL_HOST_DEFAULT = '127.0.0.1';

/** Arrival order unless the file says otherwise. */
export const DISPATCH_DEFAULTS: DispatchConfig = { priority: 'fifo', scenarioPriority: {} };

/** How often a `discover: dns` name is resolved again when the config does not say. */
export const RESOLVE_EVERY_MS_DEFAULT = 10_000;
