/** One thing wrong with a registry config: where (a key path such as `models[1].backend.url`) and what, with the fix. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/**
 * A registry config that cannot be used. The message lists every problem found, one a line, so that one
 * edit-and-retry fixes them all rather than one per start-up.
 */
export class RegistryConfigError extends Error {
  override readonly name = 'RegistryConfigError';
  readonly problems: readonly string[];

  constructor(
    readonly source: string,
    problems: ConfigProblem[],
  ) {
    const lines = problems.map(formatProblem);
    const count = lines.length === 1 ? '1 problem' : `${lines.length} problems`;
    super(`${source}: invalid model registry config (${count}):\n${lines.map((line) => `  - ${line}`).join('\n')}`);
    this.problems = lines;
  }
}

function formatProblem(problem: ConfigProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}
