import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * Validators for TGI's response schemas, straight from `contracts/tgi-openapi.json` (TGI 3.3.x).
 * OpenAPI 3.0's `nullable` is rewritten to JSON Schema (`anyOf` with null) so Ajv checks it exactly.
 */
type Schema = Record<string, unknown>;

function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const { nullable, example: _example, discriminator: _discriminator, ...rest } = node as Schema;
  const converted: Schema = {};
  for (const [key, value] of Object.entries(rest)) {
    // `default` in this document is descriptive ("null", "true" as strings), not a value to check
    if (key === 'default') continue;
    converted[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toJsonSchema(v)]))
        : toJsonSchema(value);
  }
  return nullable === true ? { anyOf: [{ type: 'null' }, converted] } : converted;
}

const openapi = JSON.parse(readFileSync(new URL('../../../contracts/tgi-openapi.json', import.meta.url), 'utf8')) as {
  components: { schemas: Schema };
};
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema({ $id: 'tgi', components: { schemas: toJsonSchema(openapi.components.schemas) } });

const cache = new Map<string, ValidateFunction>();

export type TgiSchemaName = 'GenerateResponse' | 'StreamResponse' | 'Info' | 'ErrorResponse' | 'TokenizeResponse';

/** Throws with Ajv's errors when `value` does not match the named TGI schema. */
export function assertMatchesTgiSchema(name: TgiSchemaName, value: unknown): void {
  let validate = cache.get(name);
  if (!validate) {
    validate = ajv.compile({ $ref: `tgi#/components/schemas/${name}` });
    cache.set(name, validate);
  }
  if (!validate(value)) {
    throw new Error(
      `${name} does not match tgi-openapi.json: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}
