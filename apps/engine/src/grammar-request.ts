import { validationError } from './errors.js';
import { isPlainObject } from './field-readers.js';

/** A constraint on the output: any JSON value (`schema` null) or JSON matching a schema. */
export interface JsonGrammarRequest {
  schema: Record<string, unknown> | null;
}

/**
 * TGI's GrammarType (`{type: "json", value}`, `{type: "json_schema", value: {name?, schema}}`) and OpenAI's
 * `response_format` (`{type: "json_object"}`, `{type: "json_schema", json_schema: {name, schema}}`, `{type: "text"}`)
 * as one request; undefined when the output is free text. Regex grammars are refused: llama.cpp takes GBNF.
 */
export function readGrammar(value: unknown, field: string): JsonGrammarRequest | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value) || typeof value.type !== 'string') {
    throw validationError(`\`${field}\` must be an object with a \`type\``);
  }
  switch (value.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { schema: null };
    case 'json':
      return { schema: readSchema(value.value, `${field}.value`) };
    case 'json_schema': {
      // TGI nests the schema under `value`, OpenAI under `json_schema`; OpenAI's may leave it out (any JSON).
      if (isPlainObject(value.json_schema)) {
        const schema = value.json_schema.schema;
        return {
          schema: schema === undefined || schema === null ? null : readSchema(schema, `${field}.json_schema.schema`),
        };
      }
      if (isPlainObject(value.value)) return { schema: readSchema(value.value.schema, `${field}.value.schema`) };
      throw validationError(`\`${field}\` of type \`json_schema\` needs \`json_schema.schema\` or \`value.schema\``);
    }
    case 'regex':
      throw validationError('grammar is not supported: this engine takes JSON grammars only, not `regex`');
    default:
      throw validationError(
        `\`${field}.type\` must be one of \`text\`, \`json_object\`, \`json\`, \`json_schema\`. Given: ${value.type}`,
      );
  }
}

/** TGI takes the schema as an object or as a string that holds one. */
function readSchema(value: unknown, field: string): Record<string, unknown> {
  let schema = value;
  if (typeof value === 'string') {
    try {
      schema = JSON.parse(value);
    } catch (error) {
      throw validationError(`grammar is not valid: \`${field}\` is not JSON: ${(error as Error).message}`);
    }
  }
  if (!isPlainObject(schema)) throw validationError(`grammar is not valid: \`${field}\` must be a JSON schema object`);
  return schema;
}
