import type { TgiStreamEvent, TgiToken } from './tgi-protocol.js';

/**
 * The text a backend's event came as, kept beside the parsed event so a relay can send it on as it came instead of
 * serialising it again (the gateway parses each event once, for what it must read, and re-serialises none it does not
 * change). A WeakMap, not a property: a copy of the event (`{...event, details: null}`) is a changed event, and must
 * not carry the original's text.
 */
const RAW_JSON = new WeakMap<object, string>();

/** Remembers `json` as the text of `event`, when it can be relayed as one SSE `data:` line (no line breaks). */
export function keepRawJson(event: object, json: string): void {
  if (json.indexOf('\n') === -1 && json.indexOf('\r') === -1) RAW_JSON.set(event, json);
}

/** The event as JSON: the backend's own text when it came through unchanged, else the event serialised. */
export function eventJson(event: object): string {
  if (event instanceof RelayedTokenEvent) return event.json;
  return RAW_JSON.get(event) ?? JSON.stringify(event);
}

/**
 * One of TGI's token events before the last (`generated_text` and `details` null), kept as the backend wrote it:
 * its JSON is parsed only if something reads its token (details asked for, a completion's text, a relay to another
 * gateway through Redis, which serialises it with toJSON). A stream relayed to its client as it came is never parsed
 * but for its last event and its errors.
 */
export class RelayedTokenEvent implements TgiStreamEvent {
  readonly generated_text = null;
  readonly details = null;
  private parsed: TgiStreamEvent | undefined;

  private constructor(readonly json: string) {}

  /**
   * The event, if `json` is a token event before the last: a JSON object with `"generated_text":null` and
   * `"details":null`, and no `"error":` key. Inside a JSON string every quote is escaped, so each of these is
   * structure, never a token's text.
   */
  static of(json: string): RelayedTokenEvent | undefined {
    if (json.charCodeAt(0) !== OPEN_BRACE || json.charCodeAt(json.length - 1) !== CLOSE_BRACE) return undefined;
    // TGI writes these two members last: a look at the end spares two scans of the event.
    const nulls =
      json.endsWith(TGI_NULLS_LAST) || (json.includes('"generated_text":null') && json.includes('"details":null'));
    if (!nulls || json.includes('"error":')) return undefined;
    if (json.indexOf('\n') !== -1 || json.indexOf('\r') !== -1) return undefined; // one SSE `data:` line
    return new RelayedTokenEvent(json);
  }

  get index(): number {
    return this.event().index;
  }

  get token(): TgiToken {
    return this.event().token;
  }

  get top_tokens(): TgiToken[] | undefined {
    return this.event().top_tokens;
  }

  toJSON(): TgiStreamEvent {
    return this.event();
  }

  private event(): TgiStreamEvent {
    return (this.parsed ??= JSON.parse(this.json) as TgiStreamEvent);
  }
}

const TGI_NULLS_LAST = ',"generated_text":null,"details":null}';
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
