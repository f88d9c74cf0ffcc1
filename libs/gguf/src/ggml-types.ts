// ggml tensor types: ids as stored in GGUF tensor infos, with the block layout of each.
// Sizes were checked against getTypeSizeForGgmlType/getBlockSizeForGgmlType of the llama.cpp
// build that node-llama-cpp 3.21.1 ships; ids it no longer knows (removed types) are absent.

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;

export type GgmlTypeName = keyof typeof GgmlType;
export type GgmlTypeId = (typeof GgmlType)[GgmlTypeName];

/** Elements per block and bytes per block. */
interface BlockLayout {
  readonly blockSize: number;
  readonly typeSize: number;
}

const layouts: Readonly<Record<GgmlTypeName, BlockLayout>> = {
  F32: { blockSize: 1, typeSize: 4 },
  F16: { blockSize: 1, typeSize: 2 },
  Q4_0: { blockSize: 32, typeSize: 18 },
  Q4_1: { blockSize: 32, typeSize: 20 },
  Q5_0: { blockSize: 32, typeSize: 22 },
  Q5_1: { blockSize: 32, typeSize: 24 },
  Q8_0: { blockSize: 32, typeSize: 34 },
  Q8_1: { blockSize: 32, typeSize: 36 },
  Q2_K: { blockSize: 256, typeSize: 84 },
  Q3_K: { blockSize: 256, typeSize: 110 },
  Q4_K: { blockSize: 256, typeSize: 144 },
  Q5_K: { blockSize: 256, typeSize: 176 },
  Q6_K: { blockSize: 256, typeSize: 210 },
  Q8_K: { blockSize: 256, typeSize: 292 },
  IQ2_XXS: { blockSize: 256, typeSize: 66 },
  IQ2_XS: { blockSize: 256, typeSize: 74 },
  IQ3_XXS: { blockSize: 256, typeSize: 98 },
  IQ1_S: { blockSize: 256, typeSize: 50 },
  IQ4_NL: { blockSize: 32, typeSize: 18 },
  IQ3_S: { blockSize: 256, typeSize: 110 },
  IQ2_S: { blockSize: 256, typeSize: 82 },
  IQ4_XS: { blockSize: 256, typeSize: 136 },
  I8: { blockSize: 1, typeSize: 1 },
  I16: { blockSize: 1, typeSize: 2 },
  I32: { blockSize: 1, typeSize: 4 },
  I64: { blockSize: 1, typeSize: 8 },
  F64: { blockSize: 1, typeSize: 8 },
  IQ1_M: { blockSize: 256, typeSize: 56 },
  BF16: { blockSize: 1, typeSize: 2 },
  TQ1_0: { blockSize: 256, typeSize: 54 },
  TQ2_0: { blockSize: 256, typeSize: 66 },
  MXFP4: { blockSize: 32, typeSize: 17 },
  NVFP4: { blockSize: 64, typeSize: 36 },
  Q1_0: { blockSize: 128, typeSize: 18 },
  Q2_0: { blockSize: 64, typeSize: 18 },
};

const namesById = new Map<number, GgmlTypeName>(
  Object.entries(GgmlType).map(([name, id]) => [id, name as GgmlTypeName]),
);

/** The name of a known type id, or undefined for an id llama.cpp does not know. */
export function ggmlTypeName(id: number): GgmlTypeName | undefined {
  return namesById.get(id);
}

export function ggmlBlockLayout(id: number): BlockLayout | undefined {
  const name = namesById.get(id);
  return name === undefined ? undefined : layouts[name];
}

/** Bytes that a tensor of these ggml dims (ne0 first) takes; ne0 must be a multiple of the block size. */
export function ggmlTensorByteSize(id: number, dims: readonly number[]): number {
  const layout = ggmlBlockLayout(id);
  if (layout === undefined) throw new RangeError(`unknown ggml type ${id}`);
  const elements = dims.reduce((product, dim) => product * dim, 1);
  if ((dims[0] ?? 1) % layout.blockSize !== 0) {
    throw new RangeError(
      `ne0 = ${dims[0]} is not a multiple of the ${ggmlTypeName(id)} block size ${layout.blockSize}`,
    );
  }
  return (elements / layout.blockSize) * layout.typeSize;
}
