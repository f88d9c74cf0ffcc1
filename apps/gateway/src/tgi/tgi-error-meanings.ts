/** The error answers of the per-model TGI generation routes, for the OpenAPI document (API.md has the mapping). */
export const TGI_GENERATION_ERRORS: Readonly<Record<number, string>> = {
  400: 'The body is not valid JSON, or is empty (`validation`).',
  401: 'No API key, or not a valid one (`unauthorized`), where the gateway has keys.',
  403: "The model is outside the API key's scope (`forbidden`).",
  404: 'No model has this id or alias (`model_not_found`).',
  413: 'The body is over BODY_LIMIT_BYTES (`validation`).',
  415: 'A content type other than application/json (`validation`).',
  422: "TGI's input validation error (`validation`), in TGI's words; or the backend refused the input.",
  424: 'The backend failed during generation (`generation`). After the first streamed token, errors arrive as the last event instead.',
  429: "The model's queue is full, or its backend is overloaded (`overloaded`); or the API key is at one of its own limits (`rate_limited`).",
  500: "The gateway's own fault (`generation`).",
  503: 'The model is unhealthy, still cold at the deadline or unreachable, or the gateway is shutting down (`unavailable`).',
  504: 'A connect, first-token, inter-token or total timeout, or the deadline passed in the queue (`generation`).',
};
