// Typed GGUF metadata values. A JS number alone cannot say whether it is a uint32 or a float32,
// and llama.cpp rejects keys of the wrong type, so every value carries its GGUF type.

/** GGUF value type ids, as stored in the file. */
export const GgufValueTypeId = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufNumberType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type GgufBigIntType = 'uint64' | 'int64';
export type GgufScalarType = GgufNumberType | GgufBigIntType | 'bool' | 'string';
export type GgufScalar = number | bigint | boolean | string;

export type GgufValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'array'; readonly itemType: GgufScalarType; readonly value: readonly GgufScalar[] };

/** Metadata in file order. */
export type GgufMetadata = ReadonlyMap<string, GgufValue>;

/** Constructors, so that call sites read `ggufValue.uint32(n)`. */
export const ggufValue = {
  uint8: (value: number): GgufValue => ({ type: 'uint8', value }),
  int8: (value: number): GgufValue => ({ type: 'int8', value }),
  uint16: (value: number): GgufValue => ({ type: 'uint16', value }),
  int16: (value: number): GgufValue => ({ type: 'int16', value }),
  uint32: (value: number): GgufValue => ({ type: 'uint32', value }),
  int32: (value: number): GgufValue => ({ type: 'int32', value }),
  uint64: (value: bigint): GgufValue => ({ type: 'uint64', value }),
  int64: (value: bigint): GgufValue => ({ type: 'int64', value }),
  float32: (value: number): GgufValue => ({ type: 'float32', value }),
  float64: (value: number): GgufValue => ({ type: 'float64', value }),
  bool: (value: boolean): GgufValue => ({ type: 'bool', value }),
  string: (value: string): GgufValue => ({ type: 'string', value }),
  array: (itemType: GgufScalarType, value: readonly GgufScalar[]): GgufValue => ({ type: 'array', itemType, value }),
};

const integerRanges: Readonly<Record<string, readonly [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

/** Why a scalar cannot be stored as this type, or undefined when it can. */
export function scalarProblem(type: GgufScalarType, value: GgufScalar): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : `expected a string, got ${typeof value}`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `expected a boolean, got ${typeof value}`;
    case 'uint64':
      return typeof value === 'bigint' && value >= 0n && value < 1n << 64n
        ? undefined
        : `expected a uint64 bigint, got ${String(value)}`;
    case 'int64':
      return typeof value === 'bigint' && value >= -(1n << 63n) && value < 1n << 63n
        ? undefined
        : `expected an int64 bigint, got ${String(value)}`;
    case 'float32':
    case 'float64':
      return typeof value === 'number' ? undefined : `expected a number, got ${typeof value}`;
    default: {
      const [min, max] = integerRanges[type]!;
      return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
        ? undefined
        : `expected a ${type}, got ${String(value)}`;
    }
  }
}
