import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RequestRecord } from '../metrics/request-record.js';

/** Where results go: --out, or bench-results/<kind>-<local date and time>/ under the working directory. */
export function outputDirectory(out: string | undefined, kind: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const dir = resolve(out ?? join('bench-results', `${kind}-${stamp}`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** One request per line (RequestRecord), in arrival order. */
export async function writeJsonl(path: string, records: Iterable<RequestRecord>): Promise<void> {
  const stream = createWriteStream(path);
  for (const record of records) {
    if (!stream.write(`${JSON.stringify(record)}\n`)) await new Promise<void>((r) => stream.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}
