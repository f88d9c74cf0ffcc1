/**
 * The methods each route of a server takes, by its route pattern (`/models/:id/generate`), so that a path it knows
 * asked with another method is answered 405 with `Allow` rather than 404. Shared by the gateway and the engine,
 * which both learn their routes from Fastify's onRoute hook.
 */
export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, methods: string | readonly string[]): void {
    const route = this.routes.get(url) ?? { pattern: patternOf(url), methods: new Set<string>() };
    for (const method of [methods].flat()) route.methods.add(method);
    this.routes.set(url, route);
  }

  /** The methods the routes matching `path` (no query) take, sorted; empty for a path no route matches. */
  allowedFor(path: string): string[] {
    const allowed = new Set<string>();
    for (const { pattern, methods } of this.routes.values())
      if (pattern.test(path)) for (const method of methods) allowed.add(method);
    return [...allowed].sort();
  }
}

/** A route pattern as a regular expression over paths: a `:parameter` is one segment, `*` the rest. */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`);
}
