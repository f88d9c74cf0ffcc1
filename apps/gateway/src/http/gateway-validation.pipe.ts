import { Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { GatewayError } from '#backends';

/**
 * Every request body is checked against its class-validator DTO: unknown fields are refused, not dropped, and the
 * refusal is the taxonomy's `validation` (422) with every problem in one readable line.
 */
@Injectable()
export class GatewayValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new GatewayError('validation', validationMessage(errors).join('; ')),
    });
  }
}

/** Flattens class-validator's tree into one readable line: `parameters.top_p must not be greater than 1`. */
function validationMessage(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) => text.replace(error.property, path));
    return [...own, ...validationMessage(error.children ?? [], path)];
  });
}
