import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token } from 'node-llama-cpp';
import type { ChatMessageInput } from './openai-validation.js';
import { triggerTexts } from './stop-triggers.js';

export interface RenderedChat {
  tokens: Token[];
  /** The template's stop triggers in text form; those made of special tokens (EOS, EOT) end generation as EOG. */
  endOfTurn: string[];
}

/**
 * The model's chat template, resolved once at load (node-llama-cpp's `resolveChatWrapper`: the GGUF's
 * `tokenizer.chat_template` through its Jinja wrapper when it can, a general wrapper otherwise). Message text is
 * tokenized as text: a user who writes a template's special token gets the characters, not the token.
 */
export class ChatTemplate {
  constructor(
    private readonly model: LlamaModel,
    private readonly wrapper: ChatWrapper,
  ) {}

  get name(): string {
    return this.wrapper.wrapperName;
  }

  render(messages: readonly ChatMessageInput[]): RenderedChat {
    const chatHistory: ChatHistoryItem[] = messages.map((message) => {
      switch (message.role) {
        case 'system':
          return { type: 'system', text: message.content };
        case 'user':
          return { type: 'user', text: message.content };
        case 'assistant':
          return { type: 'model', response: [message.content] };
      }
    });
    // An open assistant turn is what the model completes; a last assistant message is continued as it stands.
    if (messages.at(-1)?.role !== 'assistant') chatHistory.push({ type: 'model', response: [] });
    const state = this.wrapper.generateContextState({ chatHistory });
    return {
      tokens: state.contextText.tokenize(this.model.tokenizer),
      endOfTurn: triggerTexts(state.stopGenerationTriggers),
    };
  }
}
