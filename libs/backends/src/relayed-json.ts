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
  return RAW_JSON.get(event) ?? JSON.stringify(event);
}
