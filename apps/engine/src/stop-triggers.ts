import type { LlamaText, LlamaTextJSON, Token } from 'node-llama-cpp';

/** A chat template's or a grammar's stop trigger, as node-llama-cpp gives it. */
export type StopTrigger = string | LlamaText | readonly (string | Token)[];

/**
 * A trigger's text, or undefined when it holds a special token or a token id (EOS, EOT: the generator stops on
 * end-of-generation tokens already).
 */
export function triggerText(trigger: StopTrigger): string | undefined {
  if (typeof trigger === 'string') return trigger;
  if (isTokenSequence(trigger)) {
    return trigger.every((value) => typeof value === 'string') ? trigger.join('') : undefined;
  }
  return jsonText(trigger.toJSON());
}

/** The distinct non-empty texts of `triggers`. */
export function triggerTexts(triggers: readonly StopTrigger[]): string[] {
  const texts = new Set<string>();
  for (const trigger of triggers) {
    const text = triggerText(trigger);
    if (text !== undefined && text.length > 0) texts.add(text);
  }
  return [...texts];
}

function isTokenSequence(trigger: Exclude<StopTrigger, string>): trigger is readonly (string | Token)[] {
  return Array.isArray(trigger);
}

function jsonText(json: LlamaTextJSON): string | undefined {
  if (typeof json === 'string') return json;
  let text = '';
  for (const value of json) {
    if (typeof value === 'string') text += value;
    else if (value.type === 'specialTokensText') text += value.value;
    else return undefined;
  }
  return text;
}
