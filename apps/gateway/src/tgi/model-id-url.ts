/** What may follow a model id in `/models/{id}/...`: the per-model TGI routes' own path segments and the admin ones. */
const ROUTE_SEGMENTS = new Set(['generate', 'generate_stream', 'info', 'health', 'v1', 'load', 'unload']);

const PREFIXES = ['/models/', '/v1/models/'];

/**
 * Hugging Face ids have one `/` (`Qwen/Qwen2-7B-Instruct`), and clients that do not encode URLs send it raw. Before
 * routing, `/models/<org>/<name>[/<route>]` becomes `/models/<org>%2F<name>[/<route>]` (and `/v1/models/<org>/<name>`
 * likewise), so every route on a model id takes both forms without a second set of routes. An id whose second part
 * is a route segment (`org/generate`) must be sent encoded.
 */
export function encodeSlashInModelId(url: string): string {
  const prefix = PREFIXES.find((p) => url.startsWith(p));
  if (prefix === undefined) return url;
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const segments = path.slice(prefix.length).split('/');
  if (segments.length < 2 || segments[1] === '' || ROUTE_SEGMENTS.has(segments[1]!)) return url;
  if (prefix === '/v1/models/' && segments.length > 2) return url;
  return `${prefix}${segments[0]}%2F${url.slice(prefix.length + segments[0]!.length + 1)}`;
}
