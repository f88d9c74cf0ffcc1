import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readGatewayConfig } from '#gateway/gateway-config';
import { REPO_ROOT } from '../support/engine.js';

export { REPO_ROOT };

/**
 * A deployment check needs an outside tool (Debian's docker-compose, kubectl, python3-kubernetes). .ci/run installs
 * them, so in CI a missing tool fails the test; on a developer's machine the test is skipped with the install line.
 */
export function toolSkip(command: string[], installHint: string): string | false {
  const found = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8' });
  if (found.status === 0) return false;
  if (process.env.CI)
    throw new Error(`${command.join(' ')} failed in CI: ${installHint}\n${found.stderr ?? found.error}`);
  return `needs ${command[0]} (${installHint})`;
}

export function run(
  command: string,
  args: string[],
  { input, env }: { input?: string; env?: NodeJS.ProcessEnv } = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    input,
    env: env && { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Environment variables the gateway reads: the keys readGatewayConfig looks up, plus names the compiled gateway
 * and libraries read from `process.env` elsewhere.
 */
export function gatewayEnvKeys(): Set<string> {
  const keys = new Set<string>();
  readGatewayConfig(new Proxy({}, { get: (_target, key) => (typeof key === 'string' && keys.add(key), undefined) }));
  const sources = [join(REPO_ROOT, 'dist/apps/gateway/src'), join(REPO_ROOT, 'dist/libs')];
  const read = /process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g;
  for (const file of sources.flatMap((dir) => jsFiles(dir))) {
    for (const match of readFileSync(file, 'utf8').matchAll(read)) keys.add((match[1] ?? match[2])!);
  }
  // Read by the BullMQ dispatch queue, which lands in a concurrent change; once it does, the scan above finds it.
  keys.add('REDIS_URL');
  return keys;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'testing' ? [] : jsFiles(path);
    return /\.js$/.test(name) && !/\.(spec|int|e2e)\.js$/.test(name) ? [path] : [];
  });
}

/** `--flag=value` or `--flag value` from a command line. */
export function flag(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]!.startsWith(`--${name}=`)) return args[i]!.slice(name.length + 3);
  }
  return undefined;
}

export function urlHostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
}
