// Rewrites a GGUF file's metadata and keeps everything else: the tensor infos as they are and the
// data section copied byte for byte, streamed, so no tensor is decoded or re-quantized. Like the
// writer, it writes to a temporary name and renames, so the destination (which may be the source
// itself) is either the old file or the whole new one.
import { createReadStream } from 'node:fs';
import { writeFileAtomically } from './atomic-file-write.js';
import { GGUF_DEFAULT_ALIGNMENT, alignUp } from './gguf-format.js';
import { encodeGgufHeader } from './gguf-header-encoder.js';
import { readGgufHeader } from './gguf-reader.js';
import type { GgufMetadata, GgufValue } from './gguf-value.js';
import type { GgufWriteResult } from './gguf-writer.js';

export interface GgufMetadataRewrite {
  readonly source: string;
  readonly destination: string;
  /** The new metadata, in file order, from the source's. */
  readonly edit: (metadata: GgufMetadata) => Iterable<readonly [string, GgufValue]>;
  /** Runs on the finished temporary file before it takes the destination's name; a throw keeps the old file. */
  readonly verify?: (temporaryPath: string) => Promise<void>;
}

export async function rewriteGgufMetadata(rewrite: GgufMetadataRewrite): Promise<GgufWriteResult> {
  const source = await readGgufHeader(rewrite.source);
  const metadata = [...rewrite.edit(source.metadata)];
  checkAlignmentKept(metadata, source.alignment);
  const header = encodeGgufHeader(metadata, source.tensors);
  const bytes = await writeFileAtomically(
    rewrite.destination,
    async (file) => {
      await file.write(header);
      await file.write(new Uint8Array(alignUp(file.position, source.alignment) - file.position));
      if (source.fileSize > source.dataOffset) {
        for await (const chunk of createReadStream(rewrite.source, { start: source.dataOffset }))
          await file.write(chunk as Buffer);
      }
      const copied = file.position - alignUp(header.length, source.alignment);
      if (copied !== source.fileSize - source.dataOffset)
        throw new Error(`${rewrite.source} changed while being copied (${copied} data bytes read)`);
    },
    rewrite.verify,
  );
  return { path: rewrite.destination, bytes };
}

/** Tensor offsets are only valid under the source's alignment, so the edit may not change it. */
function checkAlignmentKept(metadata: readonly (readonly [string, GgufValue])[], alignment: number): void {
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (keys.has(key)) throw new RangeError(`metadata key '${key}' given twice`);
    keys.add(key);
  }
  const value = metadata.find(([key]) => key === 'general.alignment')?.[1];
  const kept =
    value === undefined ? alignment === GGUF_DEFAULT_ALIGNMENT : value.type === 'uint32' && value.value === alignment;
  if (!kept)
    throw new RangeError(`the rewrite must keep general.alignment = ${alignment}, as the tensors are laid out`);
}
