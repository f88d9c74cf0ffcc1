import { ValidateBy, type ValidationOptions } from 'class-validator';
import { MAX_PROMPT_CHARS, withinPromptLength } from '../http/prompt-length.js';

/**
 * The rules of the OpenAI request bodies that class-validator has no decorator for: fields Sluice refuses by name,
 * the string-or-array unions (`stop`, `content`, `prompt`) and `response_format`.
 */

/** An OpenAI field Sluice does not serve: present (and not null), it is refused with `why` (combine with IsOptional). */
export function Refused(why: string): PropertyDecorator {
  return ValidateBy({
    name: 'refused',
    validator: { validate: () => false, defaultMessage: (args) => `${args?.property} is not supported: ${why}` },
  });
}

/** A field accepted only with the value that means "nothing to do" (`tool_choice: "none"`, `best_of: 1`, `{}`). */
export function OnlyNoOp(isNoOp: (value: unknown) => boolean, why: string): PropertyDecorator {
  return ValidateBy({
    name: 'onlyNoOp',
    validator: { validate: isNoOp, defaultMessage: (args) => `${args?.property} is not supported: ${why}` },
  });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const MAX_STOP_SEQUENCES = 4;
const MAX_STOP_LENGTH = 256;

function isStop(value: unknown): boolean {
  const ok = (s: unknown) => typeof s === 'string' && s.length > 0 && s.length <= MAX_STOP_LENGTH;
  if (typeof value === 'string') return ok(value);
  return Array.isArray(value) && value.length <= MAX_STOP_SEQUENCES && value.every(ok);
}

/** `stop`: a string, or up to 4 of them; each non-empty and at most 256 characters. */
export function IsStop(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStop',
      validator: {
        validate: isStop,
        defaultMessage: (args) =>
          `${args?.property} must be a string or an array of at most ${MAX_STOP_SEQUENCES} strings, each 1 to ${MAX_STOP_LENGTH} characters`,
      },
    },
    options,
  );
}

/** A message's `content`: a string, or an array of `{type: "text", text}` parts (images and audio are not served). */
export function IsMessageContent(): PropertyDecorator {
  return ValidateBy({
    name: 'isMessageContent',
    validator: {
      validate: (value) =>
        (typeof value === 'string' && withinPromptLength(value)) ||
        (Array.isArray(value) &&
          (value as unknown[]).every(
            (part) =>
              isPlainObject(part) &&
              part.type === 'text' &&
              typeof part.text === 'string' &&
              Object.keys(part).every((key) => key === 'type' || key === 'text'),
          ) &&
          withinPromptLength((value as Array<{ text: string }>).map((part) => part.text).join(''))),
      defaultMessage: (args) =>
        `${args?.property} must be a string or an array of {"type": "text", "text": string} parts (only text is served), of at most ${MAX_PROMPT_CHARS} characters`,
    },
  });
}

/** `messages`: their text together within MAX_PROMPT_CHARS, as one prompt is (each message's own shape is checked apart). */
export function IsWithinPromptLength(): PropertyDecorator {
  const textOf = (content: unknown): string =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((part) => (isPlainObject(part) && typeof part.text === 'string' ? part.text : '')).join('')
        : '';
  return ValidateBy({
    name: 'isWithinPromptLength',
    validator: {
      validate: (value) =>
        !Array.isArray(value) ||
        withinPromptLength(value.map((message) => (isPlainObject(message) ? textOf(message.content) : '')).join('')),
      defaultMessage: (args) => `${args?.property} must hold at most ${MAX_PROMPT_CHARS} characters of text in all`,
    },
  });
}

/** `prompt`: a string, or an array holding exactly one string. */
export function IsPrompt(): PropertyDecorator {
  return ValidateBy({
    name: 'isPrompt',
    validator: {
      validate: (value) => {
        const prompt: unknown = Array.isArray(value) && value.length === 1 ? value[0] : value;
        return typeof prompt === 'string' && prompt.length > 0 && withinPromptLength(prompt);
      },
      defaultMessage: (args) =>
        `${args?.property} must be a non-empty string of at most ${MAX_PROMPT_CHARS} characters (or an array of exactly one): Sluice completes one prompt per request`,
    },
  });
}

/** `response_format`: `{type: "text"}`, `{type: "json_object"}` or `{type: "json_schema", json_schema: {name, schema}}`. */
export function IsResponseFormat(): PropertyDecorator {
  return ValidateBy({
    name: 'isResponseFormat',
    validator: {
      validate: (value) => {
        if (!isPlainObject(value)) return false;
        const keys = Object.keys(value);
        if (value.type === 'text' || value.type === 'json_object') return keys.length === 1;
        if (value.type !== 'json_schema' || keys.some((k) => k !== 'type' && k !== 'json_schema')) return false;
        const spec = value.json_schema;
        return (
          isPlainObject(spec) &&
          typeof spec.name === 'string' &&
          isPlainObject(spec.schema) &&
          Object.keys(spec).every((k) => ['name', 'schema', 'strict', 'description'].includes(k))
        );
      },
      defaultMessage: (args) =>
        `${args?.property} must be {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", "json_schema": {"name": string, "schema": object}}`,
    },
  });
}

export const isEmptyObject = (value: unknown): boolean => isPlainObject(value) && Object.keys(value).length === 0;
