import type { FastifyInstance } from 'fastify';
import { GatewayError, jsonShapeProblem } from '#backends';

/**
 * A parsed body that nests too deep or has too many keys (libs/backends' JSON_BODY_LIMITS) is refused with 400 right
 * after parsing, before any guard, pipe or handler reads it: on every route, whatever its DTO.
 */
export function installBodyShapeCheck(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, _reply, done) => {
    const problem = jsonShapeProblem(request.body);
    done(problem === undefined ? undefined : new GatewayError('validation', problem, { status: 400 }));
  });
}
