/**
 * TGI's wire shapes, written once for every side that speaks them: the backend client, our engine, the test stand-in
 * and the benchmark's mock backend. Names follow contracts/tgi-openapi.json's schemas with a `Tgi` prefix; the specs
 * of the servers check their answers against that file. Types only: importing them costs a process nothing at run
 * time, which matters to the engine (this library's index loads axios and Nest).
 */
export type TgiFinishReason = 'length' | 'eos_token' | 'stop_sequence';

/** GenerateParameters: every field TGI knows, as a client sends it. */
export interface TgiGenerateParameters {
  adapter_id?: string | null;
  best_of?: number | null;
  decoder_input_details?: boolean;
  details?: boolean;
  do_sample?: boolean;
  frequency_penalty?: number | null;
  grammar?: unknown;
  max_new_tokens?: number | null;
  repetition_penalty?: number | null;
  return_full_text?: boolean | null;
  seed?: number | null;
  stop?: string[];
  temperature?: number | null;
  top_k?: number | null;
  top_n_tokens?: number | null;
  top_p?: number | null;
  truncate?: number | null;
  typical_p?: number | null;
  watermark?: boolean;
}

/** GenerateRequest, the body of `/generate` and `/generate_stream`. */
export interface TgiGenerateRequest {
  inputs: string;
  parameters?: TgiGenerateParameters;
}

/** CompatGenerateRequest, the body of `POST /`: `stream` picks the answer's form. */
export interface TgiCompatGenerateRequest extends TgiGenerateRequest {
  stream?: boolean;
}

export interface TgiToken {
  id: number;
  text: string;
  logprob: number | null;
  special: boolean;
}

/** A prompt token, with its logprob given the ones before it (`decoder_input_details`). */
export interface TgiPrefillToken {
  id: number;
  text: string;
  logprob: number | null;
}

/**
 * Details: what `/generate` adds with `details: true` (or `decoder_input_details: true`). `prefill` is empty unless
 * `decoder_input_details`; `top_tokens` (one list per generated token) is there only with `top_n_tokens` > 0, and
 * `best_of_sequences` only with `best_of` > 1.
 */
export interface TgiDetails {
  finish_reason: TgiFinishReason;
  generated_tokens: number;
  seed: number | null;
  prefill: TgiPrefillToken[];
  tokens: TgiToken[];
  best_of_sequences?: TgiBestOfSequence[];
  top_tokens?: TgiToken[][];
}

/** BestOfSequence: one of the other `best_of` candidates, in the details of `/generate`. */
export interface TgiBestOfSequence {
  generated_text: string;
  finish_reason: TgiFinishReason;
  generated_tokens: number;
  seed: number | null;
  prefill: TgiPrefillToken[];
  tokens: TgiToken[];
  top_tokens?: TgiToken[][];
}

/** GenerateResponse, the answer of `/generate` (and, in an array of one, of `POST /`). */
export interface TgiGenerateResponse {
  generated_text: string;
  details?: TgiDetails | null;
}

/** StreamDetails: what the last stream event carries with `details: true`. */
export interface TgiStreamDetails {
  finish_reason: TgiFinishReason;
  generated_tokens: number;
  input_length: number;
  seed: number | null;
}

/**
 * StreamResponse: one token event; the last one carries `generated_text` and (with `details: true`) `details`.
 * `top_tokens` (the token's most likely alternatives) is there only with `top_n_tokens` > 0.
 */
export interface TgiStreamEvent {
  index: number;
  token: TgiToken;
  top_tokens?: TgiToken[];
  generated_text: string | null;
  details: TgiStreamDetails | null;
}

/** The `error_type`s of TGI's generation routes (its `InferError`); its status for each is in the OpenAPI file. */
export type TgiErrorType = 'validation' | 'overloaded' | 'generation' | 'incomplete_generation';

/**
 * ErrorResponse: an error, as a non-200 body or (on streaming routes, always) as an event inside a 200 stream.
 * `error_type` is a string on the wire: servers add their own (`healthcheck`, `not_found`, ...).
 */
export interface TgiErrorEvent {
  error: string;
  error_type: string;
}

/** Info, the answer of `GET /info`. */
export interface TgiInfo {
  model_id: string;
  model_sha: string | null;
  model_pipeline_tag: string | null;
  max_concurrent_requests: number;
  max_best_of: number;
  max_stop_sequences: number;
  max_input_tokens: number;
  max_total_tokens: number;
  validation_workers: number;
  max_client_batch_size: number;
  router: string;
  version: string;
  sha: string | null;
  docker_label: string | null;
}

/** SimpleToken: one token of `/tokenize`'s answer, with its [start, stop) span in the input. */
export interface TgiSimpleToken {
  id: number;
  text: string;
  start: number;
  stop: number;
}
