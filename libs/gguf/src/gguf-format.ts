// Constants of the GGUF container format itself.

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
/** The version we write. */
export const GGUF_VERSION = 3;
/** Versions llama.cpp reads (v1 is refused; v2 and v3 share the 64-bit layout). */
export const GGUF_READABLE_VERSIONS: readonly number[] = [2, 3];
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS and GGML_MAX_NAME (name length including the NUL terminator). */
export const GGML_MAX_DIMS = 4;
export const GGML_MAX_NAME = 64;

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
