/** A mistake in the command line: the message names the flag, the value and the fix; the exit code is 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
