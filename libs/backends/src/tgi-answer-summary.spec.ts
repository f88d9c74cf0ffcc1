import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateAnswerSummary } from './tgi-answer-summary.js';

/** A GenerateResponse as TGI's serde writes it: members in struct order, no spaces. */
function tgiAnswer(text: string, tokens: string[], extra: { seed?: number | null } = {}): string {
  return JSON.stringify({
    generated_text: text,
    details: {
      finish_reason: 'length',
      generated_tokens: tokens.length,
      seed: extra.seed ?? null,
      prefill: [],
      tokens: tokens.map((t, i) => ({ id: i, text: t, logprob: -0.5, special: false })),
      top_tokens: [],
    },
  });
}

/** What the outcome reads of a whole answer, parsed whole. */
function summaryOfWhole(text: string) {
  const whole = JSON.parse(text) as { generated_text: string; details: Record<string, unknown> };
  const { finish_reason, generated_tokens, seed } = whole.details;
  return { generated_text: whole.generated_text, details: { finish_reason, generated_tokens, seed } };
}

describe("TGI's /generate answer read up to its token lists", () => {
  it('reads the text and the details summary of an answer as TGI writes it, the same as parsing it whole', () => {
    const text = tgiAnswer(' Paris is the capital', [' Paris', ' is', ' the', ' capital'], { seed: 42 });
    assert.deepEqual(generateAnswerSummary(text), summaryOfWhole(text));
  });

  it('a generated text holding the cut, quotes, braces and escapes is read as text, never as structure', () => {
    const tricky = [
      ',"prefill":',
      '"},"prefill":[]}}',
      '\\",\\"prefill\\":',
      'a\\',
      '}}}}',
      'line\nbreak\ttab',
      'é 中文 🙂 \u2028',
      '\u0000\u001f',
    ];
    for (const piece of tricky) {
      const text = tgiAnswer(`before ${piece} after`, [piece, piece]);
      assert.deepEqual(generateAnswerSummary(text), summaryOfWhole(text), piece);
    }
  });

  it('an answer in any other form is left to the whole parse', () => {
    const others = [
      // details before the text
      '{"details":{"finish_reason":"length","generated_tokens":1,"seed":null,"prefill":[],"tokens":[]},"generated_text":"x"}',
      // spaces, as a pretty printer writes it
      '{"generated_text": "x", "details": {"finish_reason": "length", "generated_tokens": 1, "seed": null, "prefill": [], "tokens": []}}',
      // no details, or null ones
      '{"generated_text":"x"}',
      '{"generated_text":"x","details":null}',
      // the token lists before the summary
      '{"generated_text":"x","details":{"generated_tokens":1,"prefill":[],"finish_reason":"length","seed":null,"tokens":[]}}',
      '{"generated_text":"x","details":{"finish_reason":"length","generated_tokens":1,"prefill":[],"seed":7,"tokens":[]}}',
      // a `prefill` one or three objects deep
      '{"generated_text":"x","prefill":[],"details":{"finish_reason":"length","generated_tokens":1,"seed":null}}',
      '{"generated_text":"x","details":{"finish_reason":"length","generated_tokens":1,"seed":null,"more":{"a":1,"prefill":[]}}}',
      // a summary the outcome could not read
      '{"generated_text":"x","details":{"finish_reason":"tired","generated_tokens":1,"seed":null,"prefill":[],"tokens":[]}}',
      '{"generated_text":"x","details":{"finish_reason":"length","generated_tokens":-1,"seed":null,"prefill":[],"tokens":[]}}',
      '{"generated_text":"x","details":{"finish_reason":"length","generated_tokens":1.5,"seed":null,"prefill":[],"tokens":[]}}',
      '{"generated_text":"x","details":{"finish_reason":"length","generated_tokens":1,"seed":"7","prefill":[],"tokens":[]}}',
      '{"generated_text":7,"details":{"finish_reason":"length","generated_tokens":1,"seed":null,"prefill":[],"tokens":[]}}',
      'not json ,"prefill":',
    ];
    for (const text of others) assert.equal(generateAnswerSummary(text), undefined, text);
  });

  it('never reads an answer differently from the whole parse, whatever the order and content of its members', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const texts = ['', 'x', ',"prefill":', '"}}', '\\', 'é🙂', '{"a":[1,2]}'];
    let summarised = 0;
    for (let i = 0; i < 2000; i++) {
      const members: Array<[string, unknown]> = [
        ['finish_reason', pick(['length', 'eos_token', 'stop_sequence'])],
        ['generated_tokens', pick([0, 1, 16, 4096])],
        ['seed', pick([null, 0, 12345678901])],
        ['prefill', pick([[], [{ id: 1, text: pick(texts), logprob: null }]])],
        ['tokens', [{ id: 2, text: pick(texts), logprob: -1, special: false }]],
      ];
      // Shuffled now and then, so some answers put the token lists first.
      if (random() < 0.3) members.sort(() => random() - 0.5);
      const details = Object.fromEntries(members);
      const answer =
        random() < 0.2
          ? { details, generated_text: pick(texts) }
          : { generated_text: pick(texts) + pick(texts), details };
      const text = JSON.stringify(answer);
      const summary = generateAnswerSummary(text);
      if (summary === undefined) continue;
      summarised++;
      assert.deepEqual(summary, summaryOfWhole(text), text);
    }
    assert.ok(summarised > 1000, `only ${summarised} of 2000 answers were in TGI's form`);
  });

  it('reads an answer bent a character at a time only as its text up to the token lists parses', () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const marks = ['"', '\\', '{', '}', '[', ']', ',', ':', 'n', '0', '9', ' ', 'u', 'x', '-', '.'];
    let summarised = 0;
    for (let i = 0; i < 20000; i++) {
      const base = tgiAnswer('a\\"b\u00e9', [' a', ' b'], { seed: random() < 0.5 ? null : 1234 });
      const at = Math.floor(random() * base.indexOf(',"tokens":'));
      const bent =
        base.slice(0, at) + marks[Math.floor(random() * marks.length)]! + base.slice(at + (random() < 0.5 ? 0 : 1));
      const summary = generateAnswerSummary(bent);
      if (summary === undefined) continue;
      summarised++;
      const cut = JSON.parse(`${bent.slice(0, bent.indexOf(',"prefill":'))}}}`) as {
        generated_text: string;
        details: Record<string, unknown>;
      };
      const { finish_reason, generated_tokens, seed: answerSeed } = cut.details;
      const expected = {
        generated_text: cut.generated_text,
        details: { finish_reason, generated_tokens, seed: answerSeed },
      };
      assert.deepEqual(summary, expected, `case ${i}: ${bent}`);
    }
    assert.ok(summarised > 1000, `${summarised} bent answers summarised: the check above compared them`);
  });
});
