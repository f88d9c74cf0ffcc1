import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { postGenerate } from '../testing/answers.js';
import { startInProcessGateway } from '../testing/in-process-gateway.js';
import { parseApiKeys } from './api-keys-file.js';
import { hashApiKey } from './key-ring.js';
import { KeysCommandError, runKeysCommand } from './keys-commands.js';

async function run(argv: string[], stdin = ''): Promise<string> {
  const lines: string[] = [];
  await runKeysCommand(argv, (line) => lines.push(line), stdin);
  return lines.join('\n');
}

describe('npm run keys', () => {
  it('new: a fresh sk-sluice- key, printed once, and an entry that works pasted into a keys file', async () => {
    const printed = await run(['new', 'team-a', '--models', 'qwen2-7b', '--rpm', '60', '--tpm', '5000']);
    const key = /^(sk-sluice-[A-Za-z0-9_-]{43})$/m.exec(printed)?.[1];
    assert.ok(key, printed);
    const entry = printed.slice(printed.indexOf('  - name:'));
    const [parsed] = parseApiKeys(`keys:\n${entry}\n`, 'pasted');
    assert.equal(parsed!.name, 'team-a');
    assert.equal(parsed!.sha256, hashApiKey(key));
    assert.deepEqual(parsed!.models, ['qwen2-7b']);
    assert.deepEqual(parsed!.limits, { requests_per_minute: 60, tokens_per_minute: 5000 });
    assert.ok(!entry.includes(key), 'the entry never holds the key');

    const gateway = await startInProcessGateway({ keysYaml: `keys:\n${entry}\n` });
    try {
      const allowed = await postGenerate(gateway.app, { model_id: 'qwen2', inputs: 'a' }, { 'x-api-key': key });
      assert.equal(allowed.statusCode, 200, allowed.body);
      const other = await postGenerate(gateway.app, { model_id: 'llama3', inputs: 'a' }, { 'x-api-key': key });
      assert.equal(other.statusCode, 403, other.body);
    } finally {
      await gateway.close();
    }
    // Every key is new.
    assert.notEqual(/^(sk-sluice-\S+)$/m.exec(await run(['new', 'team-a']))?.[1], key);
  });

  it('new: admin, weight and concurrency go into the entry; bad values are refused with the reason', async () => {
    const printed = await run(['new', 'ops', '--admin', '--weight', '3', '--concurrent', '2']);
    const [parsed] = parseApiKeys(`keys:\n${printed.slice(printed.indexOf('  - name:'))}\n`, 'pasted');
    assert.equal(parsed!.admin, true);
    assert.equal(parsed!.weight, 3);
    assert.equal(parsed!.models, '*');
    assert.deepEqual(parsed!.limits, { max_concurrent: 2 });
    await assert.rejects(run(['new', 'x', '--rpm', 'many']), /--rpm many: use a positive integer/);
    await assert.rejects(run(['new', 'bad name!']), /name: use 1 to 64 letters/);
    await assert.rejects(run(['new']), KeysCommandError);
  });

  it('hash: the SHA-256 a keys file stores, from the argument or stdin', async () => {
    assert.equal(await run(['hash', 'sk-sluice-abc']), hashApiKey('sk-sluice-abc'));
    assert.equal(await run(['hash'], 'sk-sluice-abc\n'), hashApiKey('sk-sluice-abc'));
    await assert.rejects(run(['hash'], ''), KeysCommandError);
  });

  it('list --file: every key of a keys file by name, scope and state', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sluice-keys-')), 'keys.yaml');
    const entry = (printed: string) => printed.slice(printed.indexOf('  - name:'));
    const ops = entry(await run(['new', 'ops', '--admin']));
    const team = entry(await run(['new', 'team', '--models', 'qwen2,llama3']));
    writeFileSync(path, `keys:\n${ops}\n${team}\n    revoked: true\n`);
    const listed = (await run(['list', '--file', path])).split('\n');
    assert.equal(listed.length, 2);
    assert.match(listed[0]!, /^ops {2}models=\* {2}admin {2}active {2}sha256=[0-9a-f]{12}…$/);
    assert.match(listed[1]!, /^team {2}models=qwen2,llama3 {2}revoked {2}sha256=/);
  });

  it('revoke needs Redis; list needs a source; unknown commands show the usage', async () => {
    await assert.rejects(run(['revoke', 'team-a']), /in a keys file, set "revoked: true"/);
    await assert.rejects(run(['list']), /--redis URL or --file PATH/);
    await assert.rejects(run(['rotate']), /unknown command "rotate"/);
    assert.match(await run(['help']), /npm run keys -- new <name>/);
  });
});
