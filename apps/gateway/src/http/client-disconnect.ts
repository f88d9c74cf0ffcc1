import type { ServerResponse } from 'node:http';
import type { Caller } from '../auth/caller.js';
import { writeError, type Exchange } from './exchange.js';
import { onDrainCut } from './shutdown-drain.js';

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
 * answer waits for. An error goes on to the caller, unless the client has left: a client that left gets no answer.
 */
export async function answerWhileConnected(
  exchange: Exchange,
  answer: (client: ClientSide) => Promise<void>,
): Promise<void> {
  const stop = new ClientStop(exchange);
  try {
    await answer({ signal: stop.signal, departed: stop, caller: exchange.caller, response: exchange.res });
  } catch (error) {
    if (!stop.aborted) throw error;
  } finally {
    stop.dispose();
  }
}

/**
 * answerWhileConnected() for a route that writes its own answer, errors included: a refusal or failure before the
 * answer started goes out in the route's error shape (a stream ends its own way).
 */
export async function answerExchange(exchange: Exchange, answer: (client: ClientSide) => Promise<void>): Promise<void> {
  try {
    await answerWhileConnected(exchange, answer);
  } catch (error) {
    writeError(exchange, exchange.res, error);
  }
}

/**
 * One abort controller per request for both reasons to stop: the client left (`aborted` then says so), or the
 * shutdown's grace ran out (the drain calls it with the 503 to answer).
 */
class ClientStop {
  private readonly controller = new AbortController();
  private readonly res: ServerResponse;
  private readonly forgetCut: () => void;
  /** The client left before its answer was complete. */
  aborted = false;

  constructor(exchange: Exchange) {
    this.res = exchange.res;
    this.res.on('close', this.onClose);
    this.forgetCut = onDrainCut(exchange.res, this.onCut);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.aborted = true;
    this.controller.abort(new Error('client disconnected'));
  };

  private readonly onCut = (reason: Error): void => this.controller.abort(reason);

  dispose(): void {
    this.res.off('close', this.onClose);
    this.forgetCut();
  }
}
