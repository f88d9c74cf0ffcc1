import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { validateGgufFile } from '#gguf';
import { ChatTemplate } from './chat-template.js';
import { JsonGrammars } from './json-grammars.js';
import { resolveModelLimits, type EngineConfig, type EngineConfigDraft } from './config.js';
import { PromptBounds } from './prompt-bounds.js';
import { SequencePool } from './sequence-pool.js';

export type RuntimeState = 'loading' | 'ready' | 'failed';

/**
 * The loaded model: one llama.cpp model, `contexts` contexts of `sequences` sequences each, and the pool that
 * hands those sequences out. Loading validates the GGUF first: llama.cpp aborts the whole process on some bad
 * files, so nothing reaches it that the validator refused.
 */
export class ModelRuntime {
  state: RuntimeState = 'loading';
  loadError?: string;
  loadStartedAt = performance.now();
  loadMs?: number;
  config?: EngineConfig;
  model?: LlamaModel;
  pool?: SequencePool<LlamaContextSequence>;
  /** Resolved once: resolving per request would re-read the GGUF's template each time. */
  chatTemplate?: ChatTemplate;
  grammars?: JsonGrammars;
  promptBounds?: PromptBounds;
  private llama?: Llama;
  private contexts: LlamaContext[] = [];

  constructor(private readonly draft: EngineConfigDraft) {}

  get modelId(): string {
    return this.draft.modelId;
  }

  async load(): Promise<void> {
    try {
      const metadata = await validateGgufFile(this.draft.modelPath);
      const { getLlama, LlamaLogLevel, LlamaGrammarEvaluationState, resolveChatWrapper } =
        await import('node-llama-cpp');
      this.llama = await getLlama({
        gpu: this.draft.gpuLayers === 0 ? false : 'auto',
        build: 'never',
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message}\n`),
      });
      this.model = await this.llama.loadModel({ modelPath: this.draft.modelPath, gpuLayers: this.draft.gpuLayers });
      const model = this.model;
      this.chatTemplate = new ChatTemplate(model, resolveChatWrapper(model));
      this.grammars = new JsonGrammars(this.llama, (grammar) => new LlamaGrammarEvaluationState({ model, grammar }));
      const config = resolveModelLimits(this.draft, metadata.contextLength ?? this.model.trainContextSize);
      const sequences: LlamaContextSequence[] = [];
      for (let i = 0; i < config.contexts; i++) {
        const context = await this.model.createContext({
          contextSize: config.contextSize,
          sequences: config.sequencesPerContext,
          threads: config.threads,
          batchSize: Math.min(512, config.contextSize),
        });
        this.contexts.push(context);
        for (let s = 0; s < config.sequencesPerContext; s++) sequences.push(context.getSequence());
      }
      const vocabularySize = this.model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
      this.promptBounds = PromptBounds.forModel(this.model, vocabularySize, config.maxInputTokens);
      this.pool = new SequencePool(sequences, (sequence) => this.contexts.indexOf(sequence.context));
      this.config = config;
      this.loadMs = performance.now() - this.loadStartedAt;
      this.state = 'ready';
    } catch (error) {
      this.state = 'failed';
      this.loadError = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  async dispose(): Promise<void> {
    for (const context of this.contexts) await context.dispose();
    await this.model?.dispose();
    await this.llama?.dispose();
  }
}
