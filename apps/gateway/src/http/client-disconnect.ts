import type { ServerResponse } from 'node:http';

/** An AbortSignal that fires when the client goes away before its answer is complete. */
export function abortOnClientDisconnect(res: ServerResponse): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  };
  res.on('close', onClose);
  return { signal: controller.signal, dispose: () => res.off('close', onClose) };
}
