import { helpFor } from '../cli/help.js';
import { parseDuration, parseFraction, parseNumber } from '../cli/parse-values.js';
import { parseFlags } from '../cli/run-options.js';
import { UsageError } from '../cli/usage-error.js';
import { MOCK_BACKEND_DEFAULTS, startMockBackend, type MockBackendOptions } from '../mock-backend/mock-backend.js';
import { startPlainProxy } from '../overhead/plain-proxy.js';

const PARENT_PIPE = { 'parent-pipe': { type: 'boolean', default: false } } as const;

const MOCK_BACKEND_FLAGS = {
  host: { type: 'string', default: MOCK_BACKEND_DEFAULTS.host },
  port: { type: 'string', default: String(MOCK_BACKEND_DEFAULTS.port) },
  ttft: { type: 'string', default: '0ms' },
  itl: { type: 'string', default: '0ms' },
  jitter: { type: 'string', default: '0ms' },
  'output-tokens': { type: 'string' },
  'default-max-new-tokens': { type: 'string', default: String(MOCK_BACKEND_DEFAULTS.defaultMaxNewTokens) },
  'error-rate': { type: 'string', default: '0' },
  'overload-rate': { type: 'string', default: '0' },
  'max-concurrent': { type: 'string', default: String(MOCK_BACKEND_DEFAULTS.maxConcurrent) },
  seed: { type: 'string', default: '1' },
  help: { type: 'boolean', short: 'h', default: false },
  ...PARENT_PIPE,
} as const;

/** The mock's settings from its flags (also used by `overhead`, which passes them through). */
function mockBackendOptions(v: Record<string, unknown>): MockBackendOptions {
  const outputTokens = v['output-tokens'] as string | undefined;
  return {
    host: v.host as string,
    port: parseNumber('--port', v.port as string, { integer: true, min: 0, max: 65535 }),
    ttftMs: parseDuration('--ttft', v.ttft as string, 'ms'),
    itlMs: parseDuration('--itl', v.itl as string, 'ms'),
    jitterMs: parseDuration('--jitter', v.jitter as string, 'ms'),
    outputTokens:
      outputTokens === undefined ? null : parseNumber('--output-tokens', outputTokens, { integer: true, min: 1 }),
    defaultMaxNewTokens: parseNumber('--default-max-new-tokens', v['default-max-new-tokens'] as string, {
      integer: true,
      min: 1,
    }),
    errorRate: parseFraction('--error-rate', v['error-rate'] as string),
    overloadRate: parseFraction('--overload-rate', v['overload-rate'] as string),
    maxConcurrent: parseNumber('--max-concurrent', v['max-concurrent'] as string, { integer: true, min: 1 }),
    seed: parseNumber('--seed', v.seed as string, { integer: true, min: 0 }),
  };
}

function describeMock(o: MockBackendOptions): string {
  return (
    `ttft ${o.ttftMs} ms, per token ${o.itlMs} ms, jitter +[0, ${o.jitterMs}) ms, tokens ${o.outputTokens === null ? 'max_new_tokens' : `min(${o.outputTokens}, max_new_tokens)`}, ` +
    `generation errors ${(o.errorRate * 100).toFixed(2)} %, 429s ${(o.overloadRate * 100).toFixed(2)} %, max concurrent ${o.maxConcurrent}`
  );
}

/** `bench mock-backend`: serves until SIGINT/SIGTERM. */
export async function mockBackendCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, MOCK_BACKEND_FLAGS);
  if (values.help) {
    process.stdout.write(helpFor('mock-backend'));
    return 0;
  }
  const options = mockBackendOptions(values);
  if (options.errorRate + options.overloadRate > 1)
    throw new UsageError('--error-rate + --overload-rate is above 100 %');
  const mock = await startMockBackend(options);
  process.stdout.write(
    `bench mock-backend: listening on ${mock.url}\n` +
      `  THIS IS A LOAD-TEST TARGET, NOT A MODEL: it speaks TGI's protocol (/generate, /generate_stream,\n` +
      `  /health, /info) and answers placeholder tokens ("This is a load-test target, not a model.") after set delays.\n` +
      `  ${describeMock(options)}\n`,
  );
  await untilStopped(values['parent-pipe'] === true);
  await mock.close();
  return 0;
}

const PLAIN_PROXY_FLAGS = {
  target: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '0' },
  help: { type: 'boolean', short: 'h', default: false },
  ...PARENT_PIPE,
} as const;

/** `bench plain-proxy`: the overhead baseline as a process of its own. */
export async function plainProxyCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, PLAIN_PROXY_FLAGS);
  if (values.help) {
    process.stdout.write(helpFor('plain-proxy'));
    return 0;
  }
  const target = values.target as string | undefined;
  if (!target || !/^http:\/\/[^/]+/.test(target)) throw new UsageError('plain-proxy needs --target http://host:port');
  const proxy = await startPlainProxy(
    target,
    parseNumber('--port', values.port as string, { integer: true, min: 0, max: 65535 }),
    values.host as string,
  );
  process.stdout.write(`bench plain-proxy: listening on ${proxy.url} -> ${target}\n`);
  await untilStopped(values['parent-pipe'] === true);
  await proxy.close();
  return 0;
}

/** Until SIGINT or SIGTERM; with a parent's pipe on stdin, also until the parent goes (the pipe closes). */
function untilStopped(parentPipe: boolean): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (parentPipe) process.stdin.on('end', resolve).on('close', resolve).resume();
  });
}
