import { isChatRequest, type BackendRequest } from '#backends';

/**
 * How much of a prompt decides its replica under `routing: prefix`: enough to hold a system prompt or a few-shot
 * preamble (what requests share and a KV cache keeps), short enough that the rest — the part that differs — does not.
 */
export const PREFIX_CHARS = 256;

/** The start of the request's prompt: the text for a generation, the messages in order for a chat. */
export function promptPrefix(request: BackendRequest): string {
  if (!isChatRequest(request)) return request.inputs.slice(0, PREFIX_CHARS);
  let prefix = '';
  for (const message of request.messages) {
    prefix += `${message.role}\u0000${message.content}\u0000`;
    if (prefix.length >= PREFIX_CHARS) break;
  }
  return prefix.slice(0, PREFIX_CHARS);
}

/**
 * Rendezvous (highest-random-weight) order of `replicas` for `key`: the same key ranks the replicas the same way, and
 * a replica that goes away moves only its own keys. FNV-1a, 32 bits: spread is all it needs.
 */
export function rendezvousRank(key: string, replica: number | string): number {
  let hash = 0x811c9dc5;
  const text = `${replica}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // One more mix, so that keys differing only at the end still spread.
  hash ^= hash >>> 15;
  return Math.imul(hash, 0x2c1b3c6d) >>> 0;
}
