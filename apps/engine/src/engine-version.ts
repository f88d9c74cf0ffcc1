/** The engine's version, as /info reports it and the OpenAI routes' `system_fingerprint` carries it. */
export const ENGINE_VERSION = '0.1.0';
