import assert from 'node:assert/strict';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** What Fastify's `inject` resolves with, as far as these tests read it. */
export interface InjectedAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json(): any;
}

/** POST /v1/generate with a JSON body; `headers` adds to (or replaces) the JSON content type. */
export function postGenerate(
  app: NestFastifyApplication,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<InjectedAnswer> {
  return app.inject({
    method: 'POST',
    url: '/v1/generate',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Asserts the documented error answer: the status, a JSON content type, exactly `{error, error_type, request_id}`
 * with the request id of the x-request-id header, and Retry-After only with 429 and 503. Returns the body.
 */
export function assertErrorAnswer(
  answer: InjectedAnswer,
  status: number,
  errorType: string,
  message?: RegExp,
): { error: string; error_type: string; request_id: string } {
  assert.equal(answer.statusCode, status, answer.body);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  const body = answer.json();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_type', 'request_id']);
  assert.equal(body.error_type, errorType);
  assert.equal(typeof body.error, 'string');
  assert.ok(body.error.length > 0);
  if (message) assert.match(body.error, message);
  assert.ok(typeof body.request_id === 'string' && body.request_id.length > 0);
  assert.equal(answer.headers['x-request-id'], body.request_id);
  if (status !== 429 && status !== 503) assert.equal(answer.headers['retry-after'], undefined);
  return body;
}

/** Polls `condition` every few ms until it holds (a request reached the backend, the queue filled). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
