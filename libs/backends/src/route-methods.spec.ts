import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteMethods } from './route-methods.js';

describe('RouteMethods', () => {
  const routes = new RouteMethods();
  routes.add('/v1/generate', 'POST');
  routes.add('/models/:id', ['GET', 'HEAD']);
  routes.add('/models/:id', 'POST');
  routes.add('/models/:id/generate', 'POST');
  routes.add('/docs/*', 'GET');

  it('gives the methods of every route a path matches, sorted', () => {
    assert.deepEqual(routes.allowedFor('/v1/generate'), ['POST']);
    assert.deepEqual(routes.allowedFor('/v1/generate/'), ['POST']);
    assert.deepEqual(routes.allowedFor('/models/qwen2'), ['GET', 'HEAD', 'POST']);
    assert.deepEqual(routes.allowedFor('/models/qwen2/generate'), ['POST']);
    assert.deepEqual(routes.allowedFor('/docs/swagger-ui.css'), ['GET']);
  });

  it('knows no method for a path no route matches: a parameter is one segment, literal dots are literal', () => {
    assert.deepEqual(routes.allowedFor('/v2/generate'), []);
    assert.deepEqual(routes.allowedFor('/models/a/b/c'), []);
    routes.add('/docs/openapi.json', 'GET');
    assert.deepEqual(routes.allowedFor('/docsXopenapiXjson'), []);
  });
});
