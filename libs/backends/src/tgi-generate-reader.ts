import { GatewayError } from './gateway-error.js';
import { CLOSED_EARLY, type BackendCall } from './backend-call.js';
import { keepRawJson, RelayedTokenEvent } from './relayed-json.js';
import type { SseEventReader } from './sse-call.js';
import type { TgiErrorEvent, TgiStreamEvent } from './tgi-protocol.js';

/**
 * TGI's `POST /generate_stream` events: one StreamResponse per token, relayed through `onToken`; the last carries
 * `generated_text` and (the call asks for them) `details`, which make the outcome. An ErrorResponse event fails the
 * call. Holds nothing per call: one instance serves them all.
 */
class TgiGenerateReader implements SseEventReader {
  read(data: string, call: BackendCall): void {
    const { onToken } = call.options;
    // A token before the last goes on as it came, unparsed: only the last event and errors must be read.
    const relayed = onToken === undefined ? undefined : RelayedTokenEvent.of(data);
    if (relayed !== undefined) {
      call.eventArrived();
      try {
        onToken!(relayed);
      } catch (error) {
        call.fail(error);
      }
      return;
    }
    const event = call.parseObject(data) as Partial<TgiStreamEvent & TgiErrorEvent> | undefined;
    if (event === undefined) return;
    if (event.error !== undefined) return call.failWithErrorEvent(event);
    const tokenEvent = event as TgiStreamEvent;
    const now = call.eventArrived();
    if (onToken !== undefined) {
      keepRawJson(tokenEvent, data);
      try {
        onToken(tokenEvent);
      } catch (error) {
        return call.fail(error);
      }
      if (!call.pending) return; // the relay aborted the call
    }
    if (tokenEvent.generated_text != null || tokenEvent.details != null) this.finish(tokenEvent, now, call);
  }

  endOfStream(call: BackendCall): void {
    call.fail(new GatewayError('upstream', CLOSED_EARLY));
  }

  private finish(event: TgiStreamEvent, now: number, call: BackendCall): void {
    const { details } = event;
    if (details == null) {
      return call.fail(
        new GatewayError('upstream', 'backend sent its final event without `details` although the call asked for them'),
      );
    }
    call.succeed({
      generatedText: event.generated_text ?? '',
      finishReason: details.finish_reason,
      inputTokens: details.input_length,
      outputTokens: details.generated_tokens,
      seed: details.seed ?? null,
      timings: call.timings(now),
    });
  }
}

export const tgiGenerateReader: SseEventReader = new TgiGenerateReader();
