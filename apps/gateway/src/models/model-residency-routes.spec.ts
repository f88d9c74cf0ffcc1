import { after, before, describe, it } from 'node:test';
import { entryOf, entryYaml, generateApiKey, grantOf, type GrantOptions } from '../auth/api-key-issuing.js';
import { assertErrorAnswer } from '../testing/answers.js';
import { startInProcessGateway, type InProcessGateway } from '../testing/in-process-gateway.js';

function issue(name: string, options: GrantOptions = {}): { key: string; yaml: string } {
  const key = generateApiKey();
  return { key, yaml: entryYaml(entryOf(key, grantOf(name, options))) };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('POST /models/{id}/load and /unload: admin routes', () => {
  let gateway: InProcessGateway;
  const admin = issue('ops', { admin: true });
  const team = issue('team-all');
  const post = (url: string, headers: Record<string, string> = {}) =>
    gateway.app.inject({ method: 'POST', url, headers });

  before(async () => {
    gateway = await startInProcessGateway({ keysYaml: `keys:\n${admin.yaml}\n${team.yaml}\n` });
  });
  after(() => gateway?.close());

  it('answers 401 without a key and 403 to a key without the admin scope', async () => {
    for (const route of ['/models/qwen2/load', '/models/qwen2/unload']) {
      assertErrorAnswer(await post(route), 401, 'unauthorized');
      assertErrorAnswer(await post(route, bearer(team.key)), 403, 'forbidden', /admin scope/);
    }
  });

  it('answers 404 for an unknown model, and 409 for a server the gateway does not run', async () => {
    assertErrorAnswer(await post('/models/nope/load', bearer(admin.key)), 404, 'model_not_found', /unknown model "nope"/);
    // The in-process gateway's models are TGI servers outside it.
    assertErrorAnswer(
      await post('/models/qwen2/unload', bearer(admin.key)),
      409,
      'validation',
      /served by a tgi server the gateway does not run/,
    );
  });
});
