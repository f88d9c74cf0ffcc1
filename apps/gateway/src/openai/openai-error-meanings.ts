/** The error answers of the OpenAI generation routes, for the OpenAPI document (all in OpenAI's shape). */
export const OPENAI_GENERATION_ERRORS: Readonly<Record<number, string>> = {
  400: "A field is wrong, missing, unknown, refused by name (tools, n > 1, ...) or above the model's ceiling; the body is not JSON; or the backend refused the input (`validation`).",
  401: 'No API key, or not a valid one (`unauthorized`, code `invalid_api_key`), where the gateway has keys.',
  403: "The model is outside the API key's scope (`forbidden`).",
  404: 'Unknown `model` (`model_not_found`).',
  413: 'The body is over BODY_LIMIT_BYTES (`validation`).',
  415: 'A content type other than application/json (`validation`).',
  429: "The model's queue is full, or its backend is overloaded (`overloaded`); or the API key is at one of its own limits (`rate_limited`, with x-ratelimit-* headers); with Retry-After.",
  500: "The gateway's own fault (`internal`).",
  502: 'The backend failed (`upstream`). After the first streamed chunk, errors arrive as a last `data: {"error": ...}` event instead.',
  503: 'The model is unhealthy, still cold at the deadline or unreachable, or the gateway is shutting down (`unavailable`).',
  504: "A backend timeout, or the model's total_ms passed in the queue (`timeout`).",
};
