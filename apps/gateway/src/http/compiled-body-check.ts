import { Ajv, type ValidateFunction } from 'ajv';
import { dtoJsonSchema, type ConstraintRule, type DtoClass } from './dto-json-schema.js';

/**
 * A body DTO's check compiled once (Ajv, from the schema its decorators make): what a valid request costs on the hot
 * routes instead of class-validator and class-transformer. It answers only "valid"; a body it refuses goes on to
 * class-validator, which words the refusal (so every message and status stays class-validator's).
 */
export type BodyCheck = (body: unknown) => boolean;

const checks = new WeakMap<DtoClass, BodyCheck>();

export function compiledBodyCheck(dto: DtoClass): BodyCheck {
  let check = checks.get(dto);
  if (check === undefined) {
    check = compile(dto);
    checks.set(dto, check);
  }
  return check;
}

function compile(dto: DtoClass): BodyCheck {
  const rules: ConstraintRule[] = [];
  const schema = dtoJsonSchema(dto, rules);
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
  ajv.addKeyword({
    keyword: 'dtoConstraint',
    schemaType: 'number',
    // The object the field belongs to: class-validator's rules may read their siblings.
    validate: (index: number, value: unknown, _schema: unknown, context?: { parentData?: unknown }) =>
      rules[index]!.validate(value, context?.parentData),
  });
  const validate: ValidateFunction = ajv.compile(schema);
  return (body) => typeof body === 'object' && body !== null && !Array.isArray(body) && validate(body);
}
