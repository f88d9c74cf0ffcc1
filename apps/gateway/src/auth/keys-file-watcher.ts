import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { loadApiKeysFile } from './api-keys-file.js';
import type { ApiKeyEntry } from './api-key-entry.js';

/**
 * How often the keys file is looked at. Polling (stat) rather than inotify: a Kubernetes Secret or ConfigMap volume
 * is updated by swapping a symlink, which an inotify watch on the old file never sees; stat follows the link.
 */
export const KEYS_FILE_POLL_MS = 1000;

export interface KeysFileWatch {
  stop(): void;
}

/**
 * Reloads the keys file whenever it changes, so keys added or revoked there apply within about
 * KEYS_FILE_POLL_MS without a restart. A file that cannot be read or is not valid keeps the keys in force (a bad
 * edit must not lock everyone out, nor let anyone in) and is reported.
 */
export function watchKeysFile(
  path: string,
  onLoad: (entries: ApiKeyEntry[]) => void,
  onError: (message: string) => void,
  pollMs = KEYS_FILE_POLL_MS,
): KeysFileWatch {
  const listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    try {
      onLoad(loadApiKeysFile(path));
    } catch (error) {
      onError(`${(error as Error).message}\nthe keys loaded before stay in force`);
    }
  };
  watchFile(path, { interval: pollMs, persistent: false }, listener);
  return { stop: () => unwatchFile(path, listener) };
}
