import type { CallOptions, CallTimeouts } from '../inference-backend.js';

/** Generous defaults for tests that are not about timeouts; override what a test is about. */
export function testCallOptions(
  overrides: Partial<Omit<CallOptions, 'timeouts'>> & { timeouts?: Partial<CallTimeouts> } = {},
): CallOptions {
  return {
    signal: overrides.signal ?? new AbortController().signal,
    timeouts: { connectMs: 2_000, firstByteMs: 5_000, interTokenMs: 5_000, totalMs: 10_000, ...overrides.timeouts },
    ...(overrides.onToken ? { onToken: overrides.onToken } : {}),
    ...(overrides.onDelta ? { onDelta: overrides.onDelta } : {}),
  };
}
