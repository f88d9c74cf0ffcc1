/** A backend client's base URL, parsed; anything but http(s) is a configuration error naming the client. */
export function parseBackendBaseUrl(baseUrl: string, client: string, example: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(baseUrl);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`${client}: baseUrl "${baseUrl}" is not an http(s) URL; expected e.g. "${example}"`);
  }
  return url;
}
