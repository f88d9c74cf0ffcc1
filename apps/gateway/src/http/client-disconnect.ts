import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { callerOf, type Caller } from '../auth/caller.js';
import { drainSignalOf } from './shutdown-drain.js';

/** The client's side of a generation: when to stop, who it is, and where its answer goes. */
export interface ClientSide {
  /** Stops the work: the client left, or the shutdown's grace ran out (its reason is then the 503 to answer). */
  signal: AbortSignal;
  /** The client left: it gets no answer, not even a stream's error event. */
  departed: { readonly aborted: boolean };
  caller: Caller;
  response: ServerResponse;
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
  const stop = new ClientStop(reply.raw, drainSignalOf(request));
  try {
    await answer({ signal: stop.signal, departed: stop, caller: callerOf(request), response: reply.raw });
  } catch (error) {
    if (!stop.aborted) throw error;
  } finally {
    stop.dispose();
  }
}

/**
 * One abort controller per request for both reasons to stop: the client left (`aborted` then says so), or the
 * shutdown's grace ran out (the drain signal, which lives as long as the process: its listener goes with the request).
 */
class ClientStop {
  private readonly controller = new AbortController();
  /** The client left before its answer was complete. */
  aborted = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly drain: AbortSignal | undefined,
  ) {
    res.on('close', this.onClose);
    if (drain?.aborted) this.onDrain();
    else drain?.addEventListener('abort', this.onDrain, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.aborted = true;
    this.controller.abort(new Error('client disconnected'));
  };

  private readonly onDrain = (): void => this.controller.abort(this.drain!.reason);

  dispose(): void {
    this.res.off('close', this.onClose);
    this.drain?.removeEventListener('abort', this.onDrain);
  }
}
