import { createRequire } from 'node:module';
import { getMetadataStorage, ValidationTypes } from 'class-validator';

/** A body DTO's class. */
export type DtoClass = abstract new (...args: never[]) => object;

/** What class-validator keeps of one decorator (its MetadataStorage's entries; the class is not exported). */
type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** class-transformer's record of `@Type(() => Dto)`: the class a nested field's objects are validated as. */
const { defaultMetadataStorage } = createRequire(import.meta.url)('class-transformer/cjs/storage.js') as {
  defaultMetadataStorage: {
    findTypeMetadata(target: DtoClass, property: string): { typeFunction(): unknown } | undefined;
  };
};

/**
 * A JSON Schema derived from a body DTO's class-validator decorators, for a compiled check on the hot routes: the
 * DTO stays the one declaration of the request's shape. The schema is never looser than class-validator — it may only
 * be stricter (a request it refuses goes on to class-validator, which gives the refusal its words), so a body it
 * passes is one class-validator passes:
 *
 * - the built-in rules with an exact JSON Schema keyword map to it (type, minimum, maximum, maxLength, enum, const,
 *   maxItems, minItems); string lengths count code points in JSON Schema, at least what class-validator counts;
 * - any other rule (the DTO's own, or a built-in without an exact keyword) runs its own class-validator constraint
 *   through the `dtoConstraint` keyword, with the arguments class-validator would give it;
 * - a field is known only where the DTO decorates it (whitelist, forbidNonWhitelisted): nothing else is allowed;
 * - an optional field may be absent or null, as class-validator's IsOptional skips both.
 */
export type JsonSchema = Record<string, unknown>;

/** A rule the schema leaves to the constraint itself: what `dtoConstraint` runs. */
export interface ConstraintRule {
  metadata: ValidationMetadata;
  validate(value: unknown, object: unknown): boolean;
}

const storage = getMetadataStorage();

export function dtoJsonSchema(target: DtoClass, rules: ConstraintRule[]): JsonSchema {
  const metadatas = storage.getTargetValidationMetadatas(target, '', false, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const m of metadatas) {
    const list = byProperty.get(m.propertyName) ?? [];
    list.push(m);
    byProperty.set(m.propertyName, list);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [property, list] of byProperty) {
    const optional = list.some((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION);
    const checks = list.flatMap((m) => propertyChecks(target, property, m, rules));
    const schema: JsonSchema = checks.length === 1 ? checks[0]! : checks.length === 0 ? {} : { allOf: checks };
    // The value's own check first: each branch that fails makes Ajv build an error object, and values are seldom null.
    properties[property] = optional ? { anyOf: [schema, { type: 'null' }] } : schema;
    if (!optional) required.push(property);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

function propertyChecks(
  target: DtoClass,
  property: string,
  m: ValidationMetadata,
  rules: ConstraintRule[],
): JsonSchema[] {
  if (m.groups?.length || m.always || (m.validateIf !== undefined && m.type !== ValidationTypes.CONDITIONAL_VALIDATION))
    return [{ not: {} }]; // rules this derivation does not model: the request goes to class-validator
  switch (m.type) {
    case ValidationTypes.CONDITIONAL_VALIDATION:
    case ValidationTypes.WHITELIST:
      return [];
    case ValidationTypes.NESTED_VALIDATION: {
      const type = defaultMetadataStorage.findTypeMetadata(target, property)?.typeFunction() as DtoClass | undefined;
      if (type === undefined) return [{ not: {} }];
      const nested = dtoJsonSchema(type, rules);
      return [m.each ? { type: 'array', items: nested } : nested];
    }
    case ValidationTypes.CUSTOM_VALIDATION: {
      const name = storage.getTargetValidatorConstraints(m.constraintCls)[0]?.name;
      const exact = name === undefined ? undefined : exactKeyword(name, m.constraints ?? []);
      const check = exact ?? constraintCheck(m, rules);
      return [m.each ? { type: 'array', items: check } : check];
    }
    default:
      return [{ not: {} }];
  }
}

/** The built-in rules JSON Schema says exactly (each also demands its type, as the rule does). */
function exactKeyword(name: string, constraints: unknown[]): JsonSchema | undefined {
  const [first] = constraints;
  switch (name) {
    case 'isString':
      return { type: 'string' };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isInt':
      return { type: 'integer' };
    case 'isNumber': {
      // A parsed JSON number is finite; a rule allowing NaN or Infinity is no looser for JSON.
      return { type: 'number' };
    }
    case 'isArray':
      return { type: 'array' };
    case 'isObject':
      return { type: 'object' };
    case 'min':
      return typeof first === 'number' ? { type: 'number', minimum: first } : undefined;
    case 'max':
      return typeof first === 'number' ? { type: 'number', maximum: first } : undefined;
    case 'maxLength':
      return typeof first === 'number' ? { type: 'string', maxLength: first } : undefined;
    case 'isNotEmpty':
      return { not: { enum: ['', null] } };
    case 'arrayMaxSize':
      return typeof first === 'number' ? { type: 'array', maxItems: first } : undefined;
    case 'arrayNotEmpty':
      return { type: 'array', minItems: 1 };
    case 'isIn':
      return Array.isArray(first) && first.every(isJsonScalar) ? { enum: first } : undefined;
    case 'equals':
      return isJsonScalar(first) ? { const: first } : undefined;
    default:
      return undefined;
  }
}

function isJsonScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** The rule's own constraint, run as class-validator runs it. */
function constraintCheck(m: ValidationMetadata, rules: ConstraintRule[]): JsonSchema {
  const constraint = new (
    m.constraintCls as new () => {
      validate(value: unknown, args: unknown): boolean | Promise<boolean>;
    }
  )();
  const targetName = typeof m.target === 'function' ? m.target.name : m.target;
  rules.push({
    metadata: m,
    validate: (value, object) =>
      constraint.validate(value, {
        value,
        constraints: m.constraints,
        targetName,
        object,
        property: m.propertyName,
      }) === true,
  });
  return { dtoConstraint: rules.length - 1 };
}
