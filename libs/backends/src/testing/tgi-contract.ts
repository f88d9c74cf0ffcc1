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

/** The repository's copy of TGI's OpenAPI, found from this file's compiled place: dist/libs/backends/src/testing/. */
const TGI_OPENAPI = new URL('../../../../../contracts/tgi-openapi.json', import.meta.url);

let ajv: Ajv | undefined;

/** Read and compiled on first use: most importers of #backends/testing never check a TGI shape. */
function tgiSchemas(): Ajv {
  if (ajv) return ajv;
  const openapi = JSON.parse(readFileSync(TGI_OPENAPI, 'utf8')) as { components: { schemas: Schema } };
  ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'tgi', components: { schemas: toJsonSchema(openapi.components.schemas) } });
  return ajv;
}

const cache = new Map<string, ValidateFunction>();

export type TgiSchemaName =
  | 'GenerateResponse'
  | 'StreamResponse'
  | 'Info'
  | 'ErrorResponse'
  | 'TokenizeResponse'
  | 'ChatCompletion'
  | 'ChatCompletionChunk'
  | 'CompletionFinal'
  | 'Chunk'
  | 'ModelInfo';

/** Throws with Ajv's errors when `value` does not match the named TGI schema. */
export function assertMatchesTgiSchema(name: TgiSchemaName, value: unknown): void {
  const schemas = tgiSchemas();
  let validate = cache.get(name);
  if (!validate) {
    validate = schemas.compile({ $ref: `tgi#/components/schemas/${name}` });
    cache.set(name, validate);
  }
  if (!validate(value)) {
    throw new Error(
      `${name} does not match tgi-openapi.json: ${schemas.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}
