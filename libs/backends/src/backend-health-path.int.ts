import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OpenAiBackend } from './openai-backend.js';
import { TgiBackend } from './tgi-backend.js';

/** A server whose only health route is `/ready` (a `type: process` server configured with `health: /ready`). */
describe('a backend probed on a configured health route', () => {
  let server: http.Server;
  let url: string;
  const asked: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(req.url === '/ready' ? 200 : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('TGI protocol: ready by that route; down by /health, which the server does not have', async () => {
    const configured = new TgiBackend(url, { healthPath: '/ready' });
    const usual = new TgiBackend(url);
    try {
      asked.length = 0;
      assert.equal(await configured.probe(), 'ready');
      assert.deepEqual(asked, ['/ready']);
      assert.equal(await usual.probe(), 'down');
    } finally {
      configured.close();
      usual.close();
    }
  });

  it('OpenAI protocol: ready by that route, without falling back to /v1/models', async () => {
    const configured = new OpenAiBackend(url, { healthPath: '/ready', model: 'served' });
    const usual = new OpenAiBackend(url, { model: 'served' });
    try {
      asked.length = 0;
      assert.equal(await configured.probe(), 'ready');
      assert.deepEqual(asked, ['/ready']);
      assert.equal(await usual.probe(), 'down', '/health and /v1/models both 404');
    } finally {
      configured.close();
      usual.close();
    }
  });
});
