import { overlaid } from '#backends';
import type { LimitState, WindowState } from '#rate-limits';

/**
 * OpenAI's rate-limit headers for a limited key's answer: limit, remaining and reset for requests and for tokens,
 * each trio only for a limit the key has. Reset is written as OpenAI writes it (Go's duration form: "1s", "6m0s",
 * "250ms"), and means here the time until the oldest counted request (or charge) leaves the 60 s window, when
 * `remaining` next goes up.
 */
export function rateLimitHeaders(state: LimitState): Record<string, string> {
  return overlaid(trio('requests', state.requests), trio('tokens', state.tokens));
}

function trio(kind: 'requests' | 'tokens', window: WindowState | undefined): Record<string, string> {
  if (window === undefined) return {};
  return {
    [`x-ratelimit-limit-${kind}`]: String(window.limit),
    [`x-ratelimit-remaining-${kind}`]: String(window.remaining),
    [`x-ratelimit-reset-${kind}`]: openAiDuration(window.resetMs),
  };
}

/** A duration as OpenAI's headers (and Go's time.Duration) write it: "0s", "250ms", "1.5s", "59.001s", "6m0s". */
export function openAiDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole % 60_000) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** Retry-After in whole seconds, never below 1: HTTP has no finer unit, and rounding up never invites an early retry. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
