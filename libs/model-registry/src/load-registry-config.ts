import { readFileSync } from 'node:fs';
import { parseRegistryConfig } from './parse-registry-config.js';
import type { RegistryConfig } from './registry-config.js';
import { RegistryConfigError } from './registry-config-error.js';

/**
 * Reads and validates a registry file. Paths inside it (a local backend's model_path) are kept as written:
 * relative ones are relative to the working directory of the process, not to the config file.
 */
export function loadRegistryConfig(path: string): RegistryConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new RegistryConfigError(path, [
      { path: '', message: `cannot read it (${reason}) — check the path; it is relative to the working directory` },
    ]);
  }
  return parseRegistryConfig(text, path);
}
