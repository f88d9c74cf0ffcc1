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

/** POST to an OpenAI route with a JSON body; `headers` adds to (or replaces) the JSON content type. */
export function postOpenAi(
  app: NestFastifyApplication,
  route: '/v1/chat/completions' | '/v1/completions',
  body: unknown,
  headers: Record<string, string> = {},
): Promise<InjectedAnswer> {
  return app.inject({
    method: 'POST',
    url: route,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * Asserts OpenAI's error answer: the status, a JSON content type, exactly `{error: {message, type, param, code}}`
 * with `code` the gateway's error type, an x-request-id, and Retry-After only with 429 and 503. Returns the error.
 */
export function assertOpenAiError(
  answer: InjectedAnswer,
  status: number,
  code: string,
  { message, param, type }: { message?: RegExp; param?: string | null; type?: string } = {},
): { message: string; type: string; param: string | null; code: string } {
  assert.equal(answer.statusCode, status, answer.body);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  const body = answer.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.code, code);
  assert.ok(typeof body.error.message === 'string' && body.error.message.length > 0);
  if (message) assert.match(body.error.message, message);
  if (param !== undefined) assert.equal(body.error.param, param);
  const expectedType =
    type ?? (status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
  assert.equal(body.error.type, expectedType);
  assert.ok(String(answer.headers['x-request-id']).length > 0);
  if (status !== 429 && status !== 503) assert.equal(answer.headers['retry-after'], undefined);
  return body.error;
}

/**
 * An OpenAI event stream's events, checking its framing on the way: every event is one `data: ` line, and the
 * last is `[DONE]` (returned as the string) unless the stream ended in an error event.
 */
export function openAiEvents(text: string): any[] {
  assert.ok(text.endsWith('\n\n'), 'every event ends with a blank line');
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      assert.match(frame, /^data: [^\n]+$/, `one data line per event: ${frame}`);
      const data = frame.slice('data: '.length);
      return data === '[DONE]' ? data : JSON.parse(data);
    });
}
