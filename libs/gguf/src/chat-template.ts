// The chat template a GGUF carries in `tokenizer.chat_template` (a Jinja string, as in Hugging
// Face's tokenizer_config.json): llama.cpp and node-llama-cpp render conversations with it.
import { GgufValidationError } from './errors.js';
import { rewriteGgufMetadata } from './gguf-metadata-rewrite.js';
import { validateGgufFile, type GgufValidationOptions } from './gguf-validator.js';
import { ggufValue, type GgufMetadata, type GgufValue } from './gguf-value.js';
import type { GgufWriteResult } from './gguf-writer.js';

export const CHAT_TEMPLATE_KEY = 'tokenizer.chat_template';

/** The metadata entry for a template; refuses a blank one, which every renderer ignores. */
export function chatTemplateMetadata(template: string): [string, GgufValue] {
  if (template.trim() === '') throw new RangeError(`a chat template must not be empty`);
  return [CHAT_TEMPLATE_KEY, ggufValue.string(template)];
}

/** The metadata with the template set: in place of an existing one, else after every other key. */
export function withChatTemplate(metadata: GgufMetadata, template: string): [string, GgufValue][] {
  const entry = chatTemplateMetadata(template);
  const entries = [...metadata].map(([key, value]): [string, GgufValue] =>
    key === CHAT_TEMPLATE_KEY ? entry : [key, value],
  );
  return metadata.has(CHAT_TEMPLATE_KEY) ? entries : [...entries, entry];
}

export interface SetChatTemplateOptions extends GgufValidationOptions {
  readonly source: string;
  /** The source itself when absent: replaced atomically. */
  readonly destination?: string;
  readonly template: string;
}

/**
 * Sets (or replaces) a GGUF's chat template, tensors copied byte for byte. The result is validated before it
 * takes its name, so a file that llama.cpp would refuse never replaces one it loads.
 */
export async function setChatTemplate(options: SetChatTemplateOptions): Promise<GgufWriteResult> {
  const destination = options.destination ?? options.source;
  return rewriteGgufMetadata({
    source: options.source,
    destination,
    edit: (metadata) => withChatTemplate(metadata, options.template),
    verify: async (temporaryPath) => {
      try {
        await validateGgufFile(temporaryPath, options);
      } catch (error) {
        if (error instanceof GgufValidationError) throw new GgufValidationError(destination, error.problem);
        throw error;
      }
    },
  });
}
