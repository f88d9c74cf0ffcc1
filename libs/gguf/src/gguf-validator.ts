// Decides whether llama.cpp can load a GGUF file safely, from its header alone. llama.cpp aborts the
// whole process (uncatchably) on some malformed files, so files we did not make pass through here
// before any load.
import { GgufFormatError, GgufValidationError } from './errors.js';
import { readGgufHeader, type GgufHeader } from './gguf-reader.js';
import { isLlamaFamilyArchitecture, llamaFamilyArchitectures } from './llama-family.js';
import { checkLlamaFamily } from './llama-family-rules.js';
import { MetadataChecker } from './metadata-checker.js';
import { checkTokenizer } from './tokenizer-rules.js';

export interface GgufValidationOptions {
  /**
   * Accept architectures other than llama and qwen2 after the structural and tokenizer checks only.
   * Off by default: for those, this validator cannot promise that llama.cpp will not abort.
   */
  readonly allowUnknownArchitectures?: boolean;
}

/** The header of a file that passed, with the facts a loader asks for first. */
export interface ValidatedGgufFile extends GgufHeader {
  readonly architecture: string;
  /** `<arch>.context_length`: the context the model was trained for, when the file says. */
  readonly contextLength: number | undefined;
}

const MAX_PROBLEMS_SHOWN = 8;

/** Resolves to the parsed header of a loadable file; rejects with GgufValidationError otherwise. */
export async function validateGgufFile(path: string, options: GgufValidationOptions = {}): Promise<ValidatedGgufFile> {
  let header: GgufHeader;
  try {
    header = await readGgufHeader(path);
  } catch (error) {
    const reason =
      error instanceof GgufFormatError ? error.message : `cannot read the file: ${(error as Error).message}`;
    throw new GgufValidationError(path, reason);
  }
  let problems: string[];
  try {
    problems = findProblems(header, options);
  } catch (error) {
    // A bug here must still not escape as anything but a refusal.
    throw new GgufValidationError(path, `could not be validated: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new GgufValidationError(path, summarize(problems));
  const architecture = header.metadata.get('general.architecture')!.value as string;
  const contextLength = header.metadata.get(`${architecture}.context_length`);
  return { ...header, architecture, contextLength: contextLength?.type === 'uint32' ? contextLength.value : undefined };
}

function findProblems(header: GgufHeader, options: GgufValidationOptions): string[] {
  const meta = new MetadataChecker(header.metadata, []);
  const architecture = meta.string('general.architecture', { required: true });
  const tokenCount = checkTokenizer(meta);
  if (architecture !== undefined) {
    if (isLlamaFamilyArchitecture(architecture)) checkLlamaFamily(meta, architecture, header.tensors, tokenCount);
    else if (!options.allowUnknownArchitectures) {
      meta.refuse(`architecture '${architecture}' cannot be checked (known: ${llamaFamilyArchitectures.join(', ')})`);
    }
  }
  return meta.problems;
}

function summarize(problems: string[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).join('; ');
  const hidden = problems.length - MAX_PROBLEMS_SHOWN;
  return hidden > 0 ? `${shown}; and ${hidden} more problems` : shown;
}
