import { stat } from 'node:fs/promises';
import { GgufValidationError, validateGgufFile } from '#gguf';

/**
 * Why a local engine cannot load its model file (missing, unreadable, or refused by the same GGUF checks the engine
 * runs first), or null when it may try. Checked here, before any process starts, so the reason shows at once.
 */
export async function modelFileProblem(path: string): Promise<string | null> {
  try {
    await validateGgufFile(path);
    return null;
  } catch (error) {
    return error instanceof GgufValidationError ? error.message : `${path}: ${(error as Error).message}`;
  }
}

/** Tells one version of a file from another (size and modification time); null while there is no file. */
export async function fileVersion(path: string): Promise<string | null> {
  try {
    const { size, mtimeMs, ino } = await stat(path);
    return `${ino}:${size}:${mtimeMs}`;
  } catch {
    return null;
  }
}
