/**
 * Bounds on the shape of a parsed JSON request body, shared by the gateway and the engine. JSON.parse takes any depth
 * and any number of keys, but what reads the body afterwards may not: class-transformer and class-validator recurse
 * (100,000 nested arrays overflow the stack), and every unknown key becomes a line of the refusal. No body either
 * serves needs more than a JSON schema's few levels or a few hundred keys.
 */
export interface JsonShapeLimits {
  /** Nesting of arrays and objects; the body itself is level 1. */
  maxDepth: number;
  /** Keys of any one object. */
  maxKeysPerObject: number;
  /** Keys of all objects together. */
  maxKeys: number;
}

export const JSON_BODY_LIMITS: JsonShapeLimits = { maxDepth: 64, maxKeysPerObject: 1000, maxKeys: 10_000 };

/**
 * The first bound `value` breaks, as the refusal's words (`the request body nests deeper than 64 levels`), or
 * undefined when it keeps them all. Walks the value with a stack of its own, never by recursion (the point of the
 * check), and stops at the first bound broken.
 */
export function jsonShapeProblem(value: unknown, limits: JsonShapeLimits = JSON_BODY_LIMITS): string | undefined {
  // Only objects and arrays go on the stack (a string or number has no depth to check): two arrays, no pair per entry.
  const pending: object[] = [];
  const depths: number[] = [];
  let keys = 0;
  if (typeof value === 'object' && value !== null) {
    pending.push(value);
    depths.push(1);
  }
  while (pending.length > 0) {
    const next = pending.pop()!;
    const depth = depths.pop()!;
    if (depth > limits.maxDepth) return `the request body nests deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(next)) {
      for (const item of next as unknown[]) {
        if (typeof item !== 'object' || item === null) continue;
        pending.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    let own = 0;
    for (const key in next) {
      if (!Object.hasOwn(next, key)) continue;
      if (++own > limits.maxKeysPerObject)
        return `an object of the request body has more than ${limits.maxKeysPerObject} keys`;
      if (++keys > limits.maxKeys) return `the request body has more than ${limits.maxKeys} keys in all`;
      const item = (next as Record<string, unknown>)[key];
      if (typeof item !== 'object' || item === null) continue;
      pending.push(item);
      depths.push(depth + 1);
    }
  }
  return undefined;
}
