import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The console page's files, shipped as they are (no build step, nothing fetched from elsewhere at run time). They
 * live beside this module's source; the compiled module, under dist/, finds them from the repository root.
 */
const PAGE_DIR = fileURLToPath(new URL('../../../../../apps/gateway/src/console/page/', import.meta.url));

export interface ConsoleAsset {
  readonly file: string;
  readonly contentType: string;
}

/** By route: the page and what it loads. Open without a key (authentication.hook.ts): the data is not in them. */
export const CONSOLE_ASSETS = {
  '/console': { file: 'console.html', contentType: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', contentType: 'text/css; charset=utf-8' },
} as const satisfies Record<string, ConsoleAsset>;

export type ConsoleAssetRoute = keyof typeof CONSOLE_ASSETS;

export function isConsoleAssetRoute(route: string): route is ConsoleAssetRoute {
  return Object.hasOwn(CONSOLE_ASSETS, route);
}

const cache = new Map<string, Buffer>();

/** The file's bytes, read once. */
export function consoleAsset(route: ConsoleAssetRoute): { body: Buffer; contentType: string } {
  const { file, contentType } = CONSOLE_ASSETS[route];
  let body = cache.get(file);
  if (!body) cache.set(file, (body = readFileSync(`${PAGE_DIR}${file}`)));
  return { body, contentType };
}

/**
 * The page's scripts and styles come from the gateway itself and it connects nowhere else: a page that reached for a
 * CDN or another host would be refused by the browser, not silently work online and break offline.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
