import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelEntry } from './model-entry.js';
import { parseRaw, problemsOf, validRawConfig } from './testing/registry-fixtures.js';

function withOpenAiBackend(backend: Record<string, unknown>) {
  const raw = validRawConfig();
  raw.models[0].backend = { type: 'openai', ...backend };
  return raw;
}

describe('parseRegistryConfig: an openai backend (vLLM, llama-server, SGLang, Ollama)', () => {
  it('reads url, the served model name and the name of the key variable', () => {
    const config = parseRaw(
      withOpenAiBackend({
        url: 'http://vllm-qwen2:8000/',
        model: 'Qwen/Qwen2-7B-Instruct',
        api_key_env: 'VLLM_API_KEY',
      }),
    );
    assert.deepEqual(config.models[0]!.backend, {
      type: 'openai',
      url: 'http://vllm-qwen2:8000',
      model: 'Qwen/Qwen2-7B-Instruct',
      apiKeyEnv: 'VLLM_API_KEY',
    });
    assert.equal(new ModelEntry(config.models[0]!).status.address, 'http://vllm-qwen2:8000', 'configured, not learned');
  });

  it('leaves model and api_key_env unset when not written', () => {
    const config = parseRaw(withOpenAiBackend({ url: 'http://llama-server:8080' }));
    assert.deepEqual(config.models[0]!.backend, {
      type: 'openai',
      url: 'http://llama-server:8080',
      model: null,
      apiKeyEnv: null,
    });
  });

  it('refuses a url with /v1 (the client adds the routes), a bad url, an empty model and a bad variable name', () => {
    assert.deepEqual(problemsOf(withOpenAiBackend({ url: 'http://vllm:8000/v1' })), [
      'models[0].backend.url: "http://vllm:8000/v1" is not the server\'s root URL — leave out /v1, e.g. http://vllm-qwen2:8000: Sluice adds /v1/completions and /v1/chat/completions',
    ]);
    assert.deepEqual(problemsOf(withOpenAiBackend({ url: 'vllm:8000' })), [
      'models[0].backend.url: "vllm:8000" is not an absolute http(s) URL — write the server\'s root as http://host:port, e.g. http://vllm-qwen2:8000',
    ]);
    const problems = problemsOf(withOpenAiBackend({ url: 'http://vllm:8000', model: ' ', api_key_env: 'sk-abc' }));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^models\[0\]\.backend\.model: " " is not a non-empty text — write the name the server serves/,
    );
    assert.match(
      problems[1]!,
      /^models\[0\]\.backend\.api_key_env: "sk-abc" is not an environment variable name — write the name/,
    );
  });

  it('refuses a key written into the file, pointing at api_key_env', () => {
    assert.deepEqual(problemsOf(withOpenAiBackend({ url: 'http://vllm:8000', api_key: 'sk-abc' })), [
      'models[0].backend.api_key: unknown key — remove it (known keys here: type, url, model, api_key_env)',
    ]);
  });

  it('names openai among the backend types', () => {
    const raw = validRawConfig();
    raw.models[0].backend.type = 'vllm';
    assert.match(problemsOf(raw)[0]!, /type: openai \(vLLM, llama-server, SGLang or Ollama at url\)/);
  });
});
