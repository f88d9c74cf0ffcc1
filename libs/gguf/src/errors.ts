/** A file that is not well-formed GGUF (thrown by the reader). */
export class GgufFormatError extends Error {
  override readonly name = 'GgufFormatError';
}

/** A file that llama.cpp would refuse, or abort on (thrown by the validator, and only by it). */
export class GgufValidationError extends Error {
  override readonly name = 'GgufValidationError';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}
