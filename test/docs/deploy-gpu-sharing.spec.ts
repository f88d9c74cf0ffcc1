import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseRegistryConfig } from '#model-registry';
import { REPO_ROOT } from '../support/engine.js';

/** The YAML block of DEPLOY.md's section on sharing one GPU: what a reader copies. */
function sharingConfig(): string {
  const deploy = readFileSync(`${REPO_ROOT}DEPLOY.md`, 'utf8');
  const section = deploy.split(/^## /m).find((part) => part.startsWith('Sharing one GPU'));
  assert.ok(section, 'DEPLOY.md has a section "## Sharing one GPU: ..."');
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the section holds a yaml block');
  return block;
}

describe("DEPLOY.md's config for three models on one 12 GB card", () => {
  it('is a valid registry in which any two models fit the card at once and three never do', () => {
    const config = parseRegistryConfig(sharingConfig(), 'DEPLOY.md');
    const [gpu] = config.gpus;
    assert.equal(gpu?.memoryGb, 12);
    assert.equal(config.models.length, 3);
    const budgets = config.models.map((model) => model.vramBudgetGb);
    for (const model of config.models) {
      assert.equal(model.residency?.load, 'on_demand', model.id);
      assert.equal(model.backend.type, 'process', model.id);
    }
    for (let a = 0; a < budgets.length; a++)
      for (let b = a + 1; b < budgets.length; b++) assert.ok(budgets[a]! + budgets[b]! <= 12, `${a} and ${b} fit`);
    assert.ok(budgets.reduce((sum, gb) => sum + gb, 0) > 12, 'all three do not');
  });
});
