import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHAT_TEMPLATE_KEY, chatTemplateMetadata, setChatTemplate, withChatTemplate } from './chat-template.js';
import { GgufValidationError } from './errors.js';
import { readGgufHeader, type GgufHeader } from './gguf-reader.js';
import { rewriteGgufMetadata } from './gguf-metadata-rewrite.js';
import { ggufValue } from './gguf-value.js';
import { writeTinyModel, type TinyModelOptions } from './testing/tiny-model.js';

const TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}{% endfor %}";
const OTHER_TEMPLATE = "{% for m in messages %}{{ m['content'] + eos_token }}{% endfor %}";

/** The data section of a GGUF: every tensor's bytes, padding included. */
function dataSection(path: string, header: GgufHeader): Buffer {
  return readFileSync(path).subarray(header.dataOffset);
}

describe('chat template in GGUF metadata', () => {
  let dir: string;
  let count = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gguf-chat-template-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function tiny(options: TinyModelOptions = {}): Promise<string> {
    const path = join(dir, `model-${count++}.gguf`);
    await writeTinyModel(path, options);
    return path;
  }

  it('is written by the writer as a string and read back exactly', async () => {
    const [key, value] = chatTemplateMetadata(TEMPLATE);
    const { metadata } = await readGgufHeader(await tiny({ overrideKeys: { [key]: value } }));
    assert.equal(key, 'tokenizer.chat_template');
    assert.deepEqual(metadata.get(CHAT_TEMPLATE_KEY), { type: 'string', value: TEMPLATE });
  });

  it('refuses a blank template', () => {
    assert.throws(() => chatTemplateMetadata(''), /must not be empty/);
    assert.throws(() => chatTemplateMetadata(' \n\t'), /must not be empty/);
  });

  it('goes after every other key, or in the place of the one it replaces', () => {
    const metadata = new Map([
      ['general.architecture', ggufValue.string('llama')],
      [CHAT_TEMPLATE_KEY, ggufValue.string(OTHER_TEMPLATE)],
      ['tokenizer.ggml.model', ggufValue.string('llama')],
    ]);
    assert.deepEqual(withChatTemplate(metadata, TEMPLATE), [
      ['general.architecture', ggufValue.string('llama')],
      [CHAT_TEMPLATE_KEY, ggufValue.string(TEMPLATE)],
      ['tokenizer.ggml.model', ggufValue.string('llama')],
    ]);
    metadata.delete(CHAT_TEMPLATE_KEY);
    assert.deepEqual(withChatTemplate(metadata, TEMPLATE).at(-1), [CHAT_TEMPLATE_KEY, ggufValue.string(TEMPLATE)]);
  });

  describe('setChatTemplate', () => {
    it('adds the template to a copy, keeping every other key and every tensor byte for byte', async () => {
      const source = await tiny();
      const destination = join(dir, `copy-${count++}.gguf`);
      const sourceBytes = readFileSync(source);
      const result = await setChatTemplate({ source, destination, template: TEMPLATE });
      const before = await readGgufHeader(source);
      const after = await readGgufHeader(destination);
      assert.ok(readFileSync(source).equals(sourceBytes), 'the source is untouched');
      assert.equal(result.bytes, after.fileSize);
      assert.deepEqual([...after.metadata], [...before.metadata, [CHAT_TEMPLATE_KEY, ggufValue.string(TEMPLATE)]]);
      assert.deepEqual(after.tensors, before.tensors);
      assert.equal(after.alignment, before.alignment);
      assert.ok(dataSection(destination, after).equals(dataSection(source, before)), 'tensor data copied unchanged');
    });

    it('replaces a template in place when no destination is given, atomically', async () => {
      const path = await tiny({ overrideKeys: { [CHAT_TEMPLATE_KEY]: ggufValue.string(OTHER_TEMPLATE) } });
      const before = await readGgufHeader(path);
      const data = Buffer.from(dataSection(path, before));
      await setChatTemplate({ source: path, template: TEMPLATE });
      const after = await readGgufHeader(path);
      assert.deepEqual(
        [...after.metadata.keys()],
        [...before.metadata.keys()],
        'the key keeps its place; nothing is added',
      );
      assert.equal(after.metadata.get(CHAT_TEMPLATE_KEY)?.value, TEMPLATE);
      assert.ok(dataSection(path, after).equals(data));
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.endsWith('.partial')),
        [],
        'no temporary file is left',
      );
    });

    it('is idempotent: setting the same template again gives the same bytes', async () => {
      const path = await tiny();
      await setChatTemplate({ source: path, template: TEMPLATE });
      const once = readFileSync(path);
      await setChatTemplate({ source: path, template: TEMPLATE });
      assert.ok(readFileSync(path).equals(once));
    });

    it('keeps the old file when the result would not validate, naming the destination', async () => {
      const path = await tiny({ omitKeys: ['llama.block_count'] });
      const original = readFileSync(path);
      await assert.rejects(setChatTemplate({ source: path, template: TEMPLATE }), (error: unknown) => {
        assert.ok(error instanceof GgufValidationError);
        assert.equal(error.path, path);
        assert.match(error.problem, /missing metadata 'llama.block_count'/);
        return true;
      });
      assert.ok(readFileSync(path).equals(original), 'the file is unchanged');
      const destination = join(dir, `never-${count++}.gguf`);
      await assert.rejects(setChatTemplate({ source: path, destination, template: TEMPLATE }), GgufValidationError);
      assert.equal(existsSync(destination), false);
      assert.equal(existsSync(`${destination}.partial`), false);
    });

    it('refuses a blank template before writing anything', async () => {
      const path = await tiny();
      const destination = join(dir, `blank-${count++}.gguf`);
      await assert.rejects(setChatTemplate({ source: path, destination, template: '  ' }), /must not be empty/);
      assert.equal(existsSync(destination), false);
    });
  });

  it('a metadata rewrite may not change the alignment the tensors are laid out by', async () => {
    const source = await tiny();
    const destination = join(dir, `aligned-${count++}.gguf`);
    await assert.rejects(
      rewriteGgufMetadata({
        source,
        destination,
        edit: (metadata) => [...metadata].map(([k, v]) => [k, k === 'general.alignment' ? ggufValue.uint32(64) : v]),
      }),
      /must keep general.alignment = 32/,
    );
    assert.equal(existsSync(destination), false);
  });
});
