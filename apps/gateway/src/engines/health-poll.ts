import { get } from 'node:http';

const POLL_EVERY_MS = 200;
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Asks `url` every 200 ms until it answers 200 (true) or `stillWorth()` turns false (false): how the gateway learns
 * that a server it started serves, whatever it writes in its log. Refused connections and other statuses (503 while
 * loading, as llama-server and TGI answer) just mean not yet.
 */
export async function pollHealth(url: string, stillWorth: () => boolean): Promise<boolean> {
  while (stillWorth()) {
    if ((await statusOf(url)) === 200) return stillWorth();
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }
  return false;
}

function statusOf(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const request = get(url, { timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode ?? null);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}
