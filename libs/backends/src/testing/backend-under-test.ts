import assert from 'node:assert/strict';
import { after } from 'node:test';
import { GatewayError } from '../gateway-error.js';
import { TgiBackend, type TgiBackendOptions } from '../tgi-backend.js';
import { startTgiStandIn, type TgiStandInOptions } from './tgi-stand-in.js';

/**
 * For a suite of TgiBackend calls against the stand-in: `setUp` starts a stand-in and a backend on it, both closed
 * after the suite, as is anything handed to `cleanups`. Call it in a describe body.
 */
export function standInBackends() {
  const cleanups: Array<() => unknown> = [];
  after(() => Promise.all(cleanups.map((c) => c())));
  async function setUp(options: TgiStandInOptions = {}, backendOptions: TgiBackendOptions = {}) {
    const standIn = await startTgiStandIn(options);
    const backend = new TgiBackend(standIn.url, backendOptions);
    cleanups.push(
      () => standIn.close(),
      () => backend.close(),
    );
    return { standIn, backend };
  }
  return { setUp, cleanups };
}

export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GatewayError, `not a GatewayError: ${String(error)}`);
  return error;
}

/** Timer slack on a busy 2-core machine; each bound is checked as [bound, bound + SLACK_MS]. */
export const SLACK_MS = 250;

export async function timedRejection(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await call().then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

export function assertTimeout({ error, ms }: { error: unknown; ms: number }, message: string, boundMs: number): void {
  assert.ok(error instanceof GatewayError, String(error));
  assert.deepEqual([error.type, error.status, error.message], ['timeout', 504, message]);
  assert.ok(ms >= boundMs - 5 && ms <= boundMs + SLACK_MS, `fired after ${ms.toFixed(0)} ms, bound ${boundMs} ms`);
}
