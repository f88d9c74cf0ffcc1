import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf, type Caller } from '../auth/caller.js';

/** The client's side of a generation: its disconnect, who it is, and where its answer goes. */
export interface ClientSide {
  signal: AbortSignal;
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
 * Answers a request with the client's disconnect as the signal of everything the answer waits for. An error goes
 * on to the exception filter, unless the client has left: a client that left gets no answer.
 */
export async function answerWhileConnected(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: (client: ClientSide) => Promise<void>,
): Promise<void> {
  const disconnect = abortOnClientDisconnect(reply.raw);
  try {
    await answer({ signal: disconnect.signal, caller: callerOf(request), response: reply.raw });
  } catch (error) {
    if (!disconnect.signal.aborted) throw error;
  } finally {
    disconnect.dispose();
  }
}
