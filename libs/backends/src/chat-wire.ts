import type { OpenAiTokenLogprob, OpenAiTopLogprob } from './openai-protocol.js';
import type { TgiFinishReason } from './tgi-protocol.js';

/** A token's logprob as OpenAI-protocol servers send it, in a chunk or a whole answer (TGI leaves out `bytes`). */
export interface WireLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
  top_logprobs?: Array<{ token: string; logprob: number; bytes?: number[] | null }> | null;
}

/** What each server's finish reasons mean in TGI's terms: OpenAI's `stop` covers both the EOS token and a stop string. */
export const CHAT_FINISH_REASONS: Readonly<Record<string, TgiFinishReason>> = {
  stop: 'eos_token',
  eos_token: 'eos_token',
  stop_sequence: 'stop_sequence',
  length: 'length',
};

/** OpenAI's shape, whatever the server sent: TGI leaves out `bytes`. */
export function toTokenLogprob({ token, logprob, bytes, top_logprobs }: WireLogprob): OpenAiTokenLogprob {
  return { token, logprob, bytes: bytes ?? null, top_logprobs: top_logprobs?.map(toTopLogprob) ?? [] };
}

function toTopLogprob({ token, logprob, bytes }: WireLogprob): OpenAiTopLogprob {
  return { token, logprob, bytes: bytes ?? null };
}
