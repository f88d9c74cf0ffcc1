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

/**
 * Answers a request with the client's disconnect as the signal of everything the answer waits for. An error goes
 * on to the exception filter, unless the client has left: a client that left gets no answer.
 */
export async function answerWhileConnected(
  res: ServerResponse,
  answer: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const disconnect = abortOnClientDisconnect(res);
  try {
    await answer(disconnect.signal);
  } catch (error) {
    if (!disconnect.signal.aborted) throw error;
  } finally {
    disconnect.dispose();
  }
}
