/**
 * The deepest nesting of arrays and objects a request body may have. JSON.parse takes any depth, but the validation
 * (class-transformer, class-validator) recurses and would overflow the stack on a body of, say, 100,000 nested
 * arrays; no body the gateway serves needs more than a JSON schema's few levels.
 */
export const MAX_BODY_DEPTH = 64;

/** Whether `value` nests arrays and objects deeper than `limit`, found without recursion (the point of the check). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [next, depth] = pending.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(next)) pending.push([child, depth + 1]);
  }
  return false;
}
