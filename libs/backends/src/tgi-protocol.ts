/** TGI's wire shapes on `/generate_stream` (contracts/tgi-openapi.json: StreamResponse, StreamDetails, ErrorResponse). */
export type TgiFinishReason = 'length' | 'eos_token' | 'stop_sequence';

export interface TgiToken {
  id: number;
  text: string;
  logprob: number | null;
  special: boolean;
}

export interface TgiStreamDetails {
  finish_reason: TgiFinishReason;
  generated_tokens: number;
  input_length: number;
  seed: number | null;
}

/** One token event; the last one carries `generated_text` and (with `details: true`) `details`. */
export interface TgiStreamEvent {
  index: number;
  token: TgiToken;
  generated_text: string | null;
  details: null | TgiStreamDetails;
  top_tokens?: unknown[];
}

/** An error, as a non-200 body or (on streaming routes, always) as an event inside a 200 stream. */
export interface TgiErrorEvent {
  error: string;
  error_type: string;
}
