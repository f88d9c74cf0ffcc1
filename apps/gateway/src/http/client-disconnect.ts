import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf, type Caller } from '../auth/caller.js';
import { drainSignalOf } from './shutdown-drain.js';

/** The client's side of a generation: when to stop, who it is, and where its answer goes. */
export interface ClientSide {
  /** Stops the work: the client left, or the shutdown's grace ran out (its reason is then the 503 to answer). */
  signal: AbortSignal;
  /** The client left: it gets no answer, not even a stream's error event. */
  departed: AbortSignal;
  caller: Caller;
  response: ServerResponse;
}

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
 * Answers a request with the client's disconnect (and the end of a shutdown's grace) as the signal of everything the
 * answer waits for. An error goes on to the exception filter, unless the client has left: a client that left gets no
 * answer.
 */
export async function answerWhileConnected(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: (client: ClientSide) => Promise<void>,
): Promise<void> {
  const disconnect = abortOnClientDisconnect(reply.raw);
  const stop = eitherSignal(disconnect.signal, drainSignalOf(request));
  try {
    await answer({ signal: stop.signal, departed: disconnect.signal, caller: callerOf(request), response: reply.raw });
  } catch (error) {
    if (!disconnect.signal.aborted) throw error;
  } finally {
    stop.dispose();
    disconnect.dispose();
  }
}

/**
 * Aborts with whichever of the two aborts first. By hand rather than AbortSignal.any: the drain signal lives as long
 * as the process, and the listener here goes with the request.
 */
function eitherSignal(first: AbortSignal, second: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  if (!second) return { signal: first, dispose: () => undefined };
  const controller = new AbortController();
  const onFirst = () => controller.abort(first.reason);
  const onSecond = () => controller.abort(second.reason);
  if (first.aborted) onFirst();
  else if (second.aborted) onSecond();
  first.addEventListener('abort', onFirst, { once: true });
  second.addEventListener('abort', onSecond, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      first.removeEventListener('abort', onFirst);
      second.removeEventListener('abort', onSecond);
    },
  };
}
