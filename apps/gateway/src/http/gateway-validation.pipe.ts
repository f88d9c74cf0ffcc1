import { type ArgumentMetadata, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { GatewayError } from '#backends';
import { MAX_BODY_DEPTH, nestsDeeperThan } from './body-depth.js';
import { checkRefusedFields } from './refused-fields.js';

/**
 * Every request body is checked against its class-validator DTO: unknown fields are refused, not dropped, and the
 * refusal is the taxonomy's `validation` (422; 400 on the OpenAI routes) with every problem in one readable line
 * and the first field at fault as its `param`.
 */
@Injectable()
export class GatewayValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => {
        const problems = validationProblems(errors);
        return new GatewayError('validation', problems.map((p) => p.message).join('; '), {
          ...(problems[0] ? { param: problems[0].path } : {}),
        });
      },
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && nestsDeeperThan(value, MAX_BODY_DEPTH))
      throw new GatewayError('validation', `the request body nests deeper than ${MAX_BODY_DEPTH} levels`, {
        status: 400,
      });
    if (metadata.type === 'body') checkRefusedFields(value, metadata.metatype);
    return super.transform(value, metadata);
  }
}

/** Flattens class-validator's tree into readable lines: `parameters.top_p must not be greater than 1`. */
function validationProblems(errors: ValidationError[], prefix = ''): Array<{ path: string; message: string }> {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => ({
      path,
      message: text.replace(error.property, path),
    }));
    return [...own, ...validationProblems(error.children ?? [], path)];
  });
}
