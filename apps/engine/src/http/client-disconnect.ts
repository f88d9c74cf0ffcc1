import type { FastifyReply } from 'fastify';
import { EngineError } from '../errors.js';

/** Aborts the request's work when its client goes away before the answer is complete. */
export function abortOnDisconnect(reply: FastifyReply): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new EngineError('generation', 'client disconnected'));
  };
  reply.raw.on('close', onClose);
  return { signal: controller.signal, dispose: () => reply.raw.off('close', onClose) };
}
