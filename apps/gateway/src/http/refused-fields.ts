import { GatewayError } from '#backends';

/**
 * Fields a route knows and refuses by name, each with its reason (OpenAI's `tools`, `audio`, ...). Checked once per
 * body before the DTO's own validation, rather than as one class-validator property each: a property costs every
 * request its metadata lookup whether or not the client sent it, and these are almost never sent.
 */
const REFUSED_FIELDS = new WeakMap<object, Readonly<Record<string, string>>>();

/** Class decorator for a body DTO: present and not null, each field is refused with `${field} is not supported: ${why}`. */
export function RefusesFields(reasons: Readonly<Record<string, string>>): ClassDecorator {
  return (target) => {
    REFUSED_FIELDS.set(target, reasons);
  };
}

/**
 * Throws the refusal of the first refused field `body` carries; a refused field sent as null is absent, as OpenAI
 * reads null, and is removed (the DTO refuses fields it does not know). A body of a class without any passes.
 */
export function checkRefusedFields(body: unknown, metatype: unknown): void {
  if (typeof metatype !== 'function' || typeof body !== 'object' || body === null) return;
  const reasons = REFUSED_FIELDS.get(metatype);
  if (reasons === undefined) return;
  const fields = body as Record<string, unknown>;
  for (const field in reasons) {
    const value = fields[field];
    if (value === null) delete fields[field];
    else if (value !== undefined)
      throw new GatewayError('validation', `${field} is not supported: ${reasons[field]}`, { param: field });
  }
}
