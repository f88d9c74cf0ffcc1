/**
 * A backend answer's headers as undici's client hands them to a call: name, value, name, value..., each a Buffer (a
 * string where a test or an interceptor made the list). A reader looks up the few it needs; nothing is decoded or
 * lower-cased before it is asked for, where turning every header into an object cost each answer more than all the
 * lookups a call makes.
 */
export class ResponseHeaders {
  constructor(private readonly raw: ReadonlyArray<Buffer | string>) {}

  /** The first value of header `name` (given in lower case), as latin1 text like undici's own; undefined if absent. */
  get(name: string): string | undefined {
    const { raw } = this;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const key = raw[i]!;
      if (key.length === name.length && text(key).toLowerCase() === name) return text(raw[i + 1]!);
    }
    return undefined;
  }
}

function text(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('latin1');
}
