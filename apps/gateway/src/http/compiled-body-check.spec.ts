import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { GenerateRequestDto } from '../generate/generate-request.dto.js';
import { ChatCompletionRequestDto } from '../openai/chat-completion-request.dto.js';
import { CompletionRequestDto } from '../openai/completion-request.dto.js';
import { compiledBodyCheck } from './compiled-body-check.js';

/** class-validator as the gateway's pipe runs it: the words of every refusal, and the judge of the compiled check. */
function classValidatorAccepts(dto: new () => object, body: object): boolean {
  return validateSync(plainToInstance(dto, body), { whitelist: true, forbidNonWhitelisted: true }).length === 0;
}

/** Values of every JSON kind, at and around the bounds the DTOs declare. */
const VALUES: unknown[] = [
  ...[null, true, false, '', 'x', 'user', 'text', 'none', 'a'.repeat(64), 'a'.repeat(65), 'a'.repeat(257), '😀'],
  ...[0, 1, -1, -2, -2.5, 2, 2.5, 0.5, 1.5, 4, 5, 6, 20, 21, 100, 101, 1e-320, 2 ** 53, -0],
  ...[[], [''], ['x'], ['text'], ['a', 'b'], ['a', 'b', 'c', 'd', 'e'], [1], [null], [{}]],
  ...[{}, { a: 1 }, { type: 'text' }, { type: 'json_object' }, { include_usage: true }, { include_usage: 1 }],
  [{ role: 'user', content: 'hi' }],
  [{ role: 'tool', content: 'hi' }],
  [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  [{ role: 'user', content: 'hi', extra: 1 }],
  [{ role: 'user' }],
];

/** Every body one field (or one nested field) away from a valid one, plus the valid ones themselves. */
function* variants(valid: Record<string, unknown>, fields: string[], nested: Record<string, string[]>) {
  yield valid;
  for (const field of [...fields, 'unknown_field', '']) {
    for (const value of VALUES) yield { ...valid, [field]: value };
    const { [field]: _removed, ...without } = valid;
    yield without;
  }
  for (const [parent, children] of Object.entries(nested))
    for (const child of [...children, 'unknown_field'])
      for (const value of VALUES) yield { ...valid, [parent]: { ...(valid[parent] as object), [child]: value } };
}

interface Case {
  dto: new () => object;
  valid: Array<Record<string, unknown>>;
  fields: string[];
  nested: Record<string, string[]>;
}

const CASES: Case[] = [
  {
    dto: GenerateRequestDto,
    valid: [
      { model_id: 'qwen2', inputs: 'Hi' },
      { model_id: 'qwen2', inputs: 'Hi', scenario: 'qa', stream: true, parameters: { max_new_tokens: 16 } },
    ],
    fields: ['model_id', 'inputs', 'scenario', 'parameters', 'stream', 'timeout_ms'],
    nested: {
      parameters: [
        ...['max_new_tokens', 'temperature', 'top_p', 'top_k', 'repetition_penalty', 'frequency_penalty'],
        ...['do_sample', 'seed', 'stop', 'return_full_text', 'truncate', 'details', 'top_n_tokens'],
        ...['decoder_input_details', 'best_of'],
      ],
    },
  },
  {
    dto: ChatCompletionRequestDto,
    valid: [
      { model: 'qwen2', messages: [{ role: 'user', content: 'Hi' }] },
      {
        model: 'qwen2',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 16,
        stream: true,
        stream_options: { include_usage: true },
      },
    ],
    fields: [
      ...['model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed'],
      ...['presence_penalty', 'frequency_penalty', 'n', 'user', 'stream', 'stream_options', 'logit_bias'],
      ...['logprobs', 'top_logprobs', 'response_format', 'store', 'metadata', 'parallel_tool_calls', 'tool_choice'],
      'modalities',
    ],
    nested: { stream_options: ['include_usage'] },
  },
  {
    dto: CompletionRequestDto,
    valid: [
      { model: 'qwen2', prompt: 'Hi' },
      { model: 'qwen2', prompt: ['Hi'], max_tokens: 16, stream: true, echo: false },
    ],
    fields: ['model', 'prompt', 'echo', 'best_of', 'max_tokens', 'temperature', 'top_p', 'stop', 'n', 'stream'],
    nested: { stream_options: ['include_usage'] },
  },
];

describe('the compiled body check of the hot routes (a JSON Schema derived from the class-validator DTOs)', () => {
  for (const { dto, valid, fields, nested } of CASES) {
    it(`${dto.name}: passes no body class-validator refuses, and passes the valid ones`, () => {
      const check = compiledBodyCheck(dto);
      let bodies = 0;
      let passed = 0;
      for (const base of valid) {
        assert.equal(check(base), true, `a valid body takes the compiled path: ${JSON.stringify(base)}`);
        for (const body of variants(base, fields, nested)) {
          bodies++;
          // The body as parsed JSON has no undefined fields.
          const json = JSON.parse(JSON.stringify(body)) as object;
          const fast = check(json);
          if (fast) passed++;
          if (fast)
            assert.equal(
              classValidatorAccepts(dto, json),
              true,
              `looser than class-validator: ${JSON.stringify(json)}`,
            );
        }
      }
      assert.ok(passed > valid.length && passed < bodies, `${passed} of ${bodies} bodies passed: the check judges`);
    });
  }

  it('refuses what is not an object, and unknown fields at every level', () => {
    const check = compiledBodyCheck(GenerateRequestDto);
    for (const body of [null, [], 'x', 1]) assert.equal(check(body), false);
    assert.equal(check({ model_id: 'm', inputs: 'x', parameters: { max_new_tokens: 1, nope: 1 } }), false);
  });
});
