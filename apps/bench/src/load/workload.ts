import { Rng } from './rng.js';

/**
 * What each request asks for. The seed's scenarios (its performance guide's, as scripts/load_test.py has them) with
 * their Chinese prompts, the same scenarios in English, the model mix by weight, `max_new_tokens` and temperature
 * choices (uniform), top_p, streaming or not. Drawn from a seeded RNG, in arrival order: request k of a run with
 * seed s is always the same.
 */
export const SCENARIO_PROMPTS = {
  qa: { zh: '光合作用的原理是什么？', en: 'What is the principle of photosynthesis?' },
  chat: { zh: '请用中文介绍你自己。', en: 'Please introduce yourself.' },
  summarize: {
    zh: '人工智能是计算机科学的一个分支，旨在创建能够执行通常需要人类智能的任务的系统……',
    en: 'Artificial intelligence is a branch of computer science that aims to create systems able to perform tasks that normally require human intelligence...',
  },
  rewrite: { zh: '这个产品非常好，大家都很喜欢。', en: 'This product is very good and everyone likes it.' },
} as const;

export type Scenario = keyof typeof SCENARIO_PROMPTS;
export type PromptLanguage = 'zh' | 'en';
const SCENARIOS = Object.keys(SCENARIO_PROMPTS) as Scenario[];

export interface WorkloadConfig {
  models: Array<{ id: string; weight: number }>;
  languages: PromptLanguage[];
  maxNewTokens: number[];
  temperatures: number[];
  topP: number | null;
  /** Fraction of requests streamed, 0..1 (0: none, 1: all). */
  streamFraction: number;
}

export const SEED_WORKLOAD: WorkloadConfig = {
  models: [
    { id: 'qwen2', weight: 1 },
    { id: 'llama3', weight: 1 },
  ],
  languages: ['zh', 'en'],
  maxNewTokens: [64, 128],
  temperatures: [0.7, 0.9],
  topP: 0.9,
  streamFraction: 0,
};

export interface RequestSpec {
  model: string;
  scenario: Scenario;
  lang: PromptLanguage;
  inputs: string;
  maxNewTokens: number;
  temperature: number | null;
  topP: number | null;
  stream: boolean;
}

export class Workload {
  private readonly rng: Rng;
  private readonly modelChoices: Array<{ item: string; weight: number }>;

  constructor(
    private readonly config: WorkloadConfig,
    seed: number,
  ) {
    this.rng = new Rng(seed, 2);
    this.modelChoices = config.models.map((m) => ({ item: m.id, weight: m.weight }));
  }

  next(): RequestSpec {
    const rng = this.rng;
    const model = rng.pickWeighted(this.modelChoices);
    const scenario = rng.pick(SCENARIOS);
    const lang = rng.pick(this.config.languages);
    const maxNewTokens = rng.pick(this.config.maxNewTokens);
    const temperature = this.config.temperatures.length ? rng.pick(this.config.temperatures) : null;
    // Always drawn, so that changing the stream fraction does not reshuffle the other choices.
    const streamDraw = rng.next();
    return {
      model,
      scenario,
      lang,
      inputs: SCENARIO_PROMPTS[scenario][lang],
      maxNewTokens,
      temperature,
      topP: this.config.topP,
      stream: streamDraw < this.config.streamFraction,
    };
  }
}
