import type { ServerResponse } from 'node:http';
import { Stop, type StopSignal } from '#backends';
import type { Caller } from '../auth/caller.js';
import { writeError, type Exchange } from './exchange.js';
import { onDrainCut } from './shutdown-drain.js';

/** The client's side of a generation: when to stop, who it is, and where its answer goes. */
export interface ClientSide {
  /** Stops the work: the client left, or the shutdown's grace ran out (its reason is then the 503 to answer). */
  signal: StopSignal;
  /** The client left: it gets no answer, not even a stream's error event. */
  departed: { readonly aborted: boolean };
  caller: Caller;
  response: ServerResponse;
}

/**
 * Answers a request with the client's disconnect (and the end of a shutdown's grace) as the signal of everything the
 * answer waits for. An error goes on to the caller, unless the client has left: a client that left gets no answer.
 */
export function answerWhileConnected(exchange: Exchange, answer: (client: ClientSide) => Promise<void>): Promise<void> {
  return answerUntilStopped(exchange, answer, (error) => {
    throw error;
  });
}

/**
 * answerWhileConnected() for a route that writes its own answer, errors included: a refusal or failure before the
 * answer started goes out in the route's error shape (a stream ends its own way).
 */
export function answerExchange(exchange: Exchange, answer: (client: ClientSide) => Promise<void>): Promise<void> {
  return answerUntilStopped(exchange, answer, (error) => writeError(exchange, exchange.res, error));
}

async function answerUntilStopped(
  exchange: Exchange,
  answer: (client: ClientSide) => Promise<void>,
  onError: (error: unknown) => void,
): Promise<void> {
  const stop = new ClientStop(exchange.res);
  try {
    await answer({ signal: stop, departed: stop.departure, caller: exchange.caller, response: exchange.res });
  } catch (error) {
    if (!stop.departure.aborted) onError(error);
  } finally {
    stop.dispose();
  }
}

/**
 * A request's stop, for both reasons to stop: the client left (`departure.aborted` then says so), or the shutdown's
 * grace ran out (the drain calls it with the 503 to answer).
 */
class ClientStop extends Stop {
  /** The client left before its answer was complete. */
  readonly departure = { aborted: false };
  private readonly forgetCut: () => void;

  constructor(private readonly res: ServerResponse) {
    super();
    res.on('close', this.onClose);
    this.forgetCut = onDrainCut(res, this.onCut);
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.departure.aborted = true;
    this.abort(new Error('client disconnected'));
  };

  private readonly onCut = (reason: Error): void => this.abort(reason);

  dispose(): void {
    this.res.off('close', this.onClose);
    this.forgetCut();
  }
}
