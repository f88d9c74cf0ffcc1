import type { ChatGenerationRequest } from '../inference-backend.js';

/** A chat completion whose one user message is `prompt`; override what a test is about. */
export function testChatRequest(prompt: string, fields: Partial<ChatGenerationRequest> = {}): ChatGenerationRequest {
  return { kind: 'chat', messages: [{ role: 'user', content: prompt }], max_tokens: 64, ...fields };
}
