import { type ArgumentMetadata, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { clipText, GatewayError } from '#backends';
import { compiledBodyCheck } from './compiled-body-check.js';
import { checkRefusedFields } from './refused-fields.js';

/**
 * Every request body is checked against its class-validator DTO: unknown fields are refused, not dropped, and the
 * refusal is the taxonomy's `validation` (422; 400 on the OpenAI routes) with every problem in one readable line
 * and the first field at fault as its `param`. A body first meets the DTO's compiled check (`compiled-body-check.ts`):
 * one that passes it is valid and goes on as parsed, without class-validator and class-transformer (their cost is the
 * hot path's largest after the sockets); only one it refuses pays for class-validator, which words the refusal.
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
        return new GatewayError('validation', summarize(problems.map((p) => p.message)), {
          ...(problems[0] ? { param: problems[0].path } : {}),
        });
      },
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      checkRefusedFields(value, metadata.metatype);
      const dto = metadata.metatype;
      if (dto !== undefined && this.toValidate(metadata) && compiledBodyCheck(dto)(value))
        return Promise.resolve(value);
    }
    return super.transform(value, metadata);
  }
}

/** The most problems one refusal lists: a body with thousands of unknown fields gets a short answer naming a few. */
const MAX_LISTED_PROBLEMS = 5;
/** Field names longer than this are cut in the refusal (a key may be as long as the body). */
const MAX_QUOTED_NAME_CHARS = 64;

function summarize(messages: string[]): string {
  const listed = messages.slice(0, MAX_LISTED_PROBLEMS).join('; ');
  const more = messages.length - MAX_LISTED_PROBLEMS;
  return more > 0 ? `${listed}; and ${more} more` : listed;
}

/** Flattens class-validator's tree into readable lines: `parameters.top_p must not be greater than 1`. */
function validationProblems(errors: ValidationError[], prefix = ''): Array<{ path: string; message: string }> {
  return errors.flatMap((error) => {
    const property = clipText(error.property, MAX_QUOTED_NAME_CHARS);
    const path = prefix ? `${prefix}.${property}` : property;
    const own = Object.values(error.constraints ?? {}).map((text) => ({
      path,
      // A key may be "" (`{"": 1}`): replacing "" would put the path in front of the whole message instead.
      message:
        error.property === '' ? text.replace('property  ', `property ${path}"" `) : text.replace(error.property, path),
    }));
    return [...own, ...validationProblems(error.children ?? [], path)];
  });
}
