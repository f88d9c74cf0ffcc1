import { applyDecorators, type Type } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto.js';

/**
 * The error answers a route gives, for the OpenAPI document: each status with what it means on that route, the
 * error body (the gateway's own, or OpenAI's on its routes), and Retry-After where the status has one (429, 503).
 */
export function ApiErrorResponses(
  meanings: Readonly<Record<number, string>>,
  { body = ErrorResponseDto }: { body?: Type<unknown> } = {},
): MethodDecorator {
  return applyDecorators(
    ...Object.entries(meanings).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description,
        type: body,
        ...(status === '429' || status === '503'
          ? {
              headers: {
                'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
              },
            }
          : {}),
      }),
    ),
  );
}
