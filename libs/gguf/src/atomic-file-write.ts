import { open, rename, rm } from 'node:fs/promises';

/** Appends bytes at the end of what is written so far, and says how many that is. */
export interface SequentialWriter {
  write(bytes: Uint8Array): Promise<void>;
  readonly position: number;
}

/**
 * Writes `path` under a temporary name and renames it into place, so the path (which may be a file being read to
 * make the new one) holds either the old file or the whole new one. `verify` runs on the finished temporary file;
 * a throw anywhere removes it and keeps the old file. Resolves with the bytes written.
 */
export async function writeFileAtomically(
  path: string,
  fill: (writer: SequentialWriter) => Promise<void>,
  verify?: (temporaryPath: string) => Promise<void>,
): Promise<number> {
  const temporaryPath = `${path}.partial`;
  const file = await open(temporaryPath, 'w');
  try {
    const writer = {
      position: 0,
      async write(bytes: Uint8Array): Promise<void> {
        await file.write(bytes, 0, bytes.length, writer.position);
        writer.position += bytes.length;
      },
    };
    await fill(writer);
    await file.close();
    await verify?.(temporaryPath);
    await rename(temporaryPath, path);
    return writer.position;
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporaryPath, { force: true });
    throw error;
  }
}
