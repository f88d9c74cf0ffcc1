import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/engine.js';
import { startGateway, writeModelsConfig, type RunningGateway } from '../support/gateway.js';
import { request } from '../support/http-client.js';

/**
 * API.md is written by hand; this keeps it in step with the OpenAPI document the gateway serves at /docs: the same
 * endpoints (method and path), and the same fields in the body of POST /v1/generate and in its answer.
 */

/** Routes that Swagger serves beside the document it describes. */
const DOCS_ROUTES = ['GET /docs', 'GET /docs/openapi.json'];

/** A backend nobody listens on: the gateway starts no engine, and the document does not depend on models. */
const REGISTRY = `gpus: []
readiness: { required: all }
models:
  - id: qwen2
    quantization: gptq-int4
    backend: { type: tgi, url: "http://127.0.0.1:9" }
`;

interface Schema {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

function fieldNames(document: any, schema: Schema, prefix = ''): string[] {
  const resolve = (s: Schema): Schema => {
    const ref = s.$ref ?? s.allOf?.find((part) => part.$ref)?.$ref;
    return ref ? resolve(document.components.schemas[ref.replace('#/components/schemas/', '')]) : s;
  };
  const own = resolve(schema);
  return Object.entries(own.properties ?? {}).flatMap(([name, property]) => {
    const nested = resolve(property);
    return [`${prefix}${name}`, ...(nested.properties ? fieldNames(document, nested, `${prefix}${name}.`) : [])];
  });
}

/** The backticked names in the first column of the tables under a `### <title>` heading of API.md's section for a route. */
function documentedFields(markdown: string, route: string, title: string): string[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith(`\`${route}\``));
  assert.ok(section, `API.md has a section "## \`${route}\`"`);
  const part = section.split(/^### /m).find((s) => s.startsWith(title));
  assert.ok(part, `API.md's ${route} has a "### ${title}" part`);
  return [...part.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe('API.md and the OpenAPI document at /docs', () => {
  let gateway: RunningGateway;
  let document: any;
  const markdown = readFileSync(`${REPO_ROOT}API.md`, 'utf8');

  before(async () => {
    gateway = await startGateway(writeModelsConfig(REGISTRY), { waitReady: false });
    const res = await request(`${gateway.url}/docs/openapi.json`);
    assert.equal(res.status, 200);
    document = res.json();
  });
  after(() => gateway?.stop());

  it('document the same endpoints (method and path), and the documentation routes answer', async () => {
    const inOpenApi = Object.entries(document.paths as Record<string, object>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const inApiMd = [...markdown.matchAll(/^## `((?:GET|POST|PUT|PATCH|DELETE) \/[^`]*)`/gm)].map((m) => m[1]!);
    assert.deepEqual(sorted(inApiMd), sorted([...inOpenApi, ...DOCS_ROUTES]));
    for (const route of DOCS_ROUTES) {
      const res = await request(`${gateway.url}${route.split(' ')[1]}`);
      assert.equal(res.status, 200, route);
    }
  });

  it('document the same request body fields for POST /v1/generate', () => {
    const operation = document.paths['/v1/generate'].post;
    const schema = operation.requestBody.content['application/json'].schema;
    assert.deepEqual(
      sorted(documentedFields(markdown, 'POST /v1/generate', 'Request body')),
      sorted(fieldNames(document, schema)),
    );
  });

  it('document the same response fields for POST /v1/generate', () => {
    const operation = document.paths['/v1/generate'].post;
    const schema = operation.responses['200'].content['application/json'].schema;
    assert.deepEqual(
      sorted(documentedFields(markdown, 'POST /v1/generate', 'Response body')),
      sorted(fieldNames(document, schema)),
    );
  });
});
