// Byte-level helpers for tests that corrupt GGUF files on purpose.

/** Offset just past the first GGUF string (u64 length + bytes) equal to text. */
function offsetAfterString(file: Uint8Array, text: string): number {
  const encoded = new TextEncoder().encode(text);
  const withLength = new Uint8Array(8 + encoded.length);
  new DataView(withLength.buffer).setBigUint64(0, BigInt(encoded.length), true);
  withLength.set(encoded, 8);
  const at = Buffer.from(file.buffer, file.byteOffset, file.length).indexOf(withLength);
  if (at < 0) throw new Error(`'${text}' not found`);
  return at + withLength.length;
}

/** Offset of a tensor info's n_dims field (dims, type and offset follow). */
export function tensorInfoOffset(file: Uint8Array, name: string): number {
  return offsetAfterString(file, name);
}

/** Offset of a metadata key's value-type field (the value follows). */
export function metadataValueOffset(file: Uint8Array, key: string): number {
  return offsetAfterString(file, key);
}
