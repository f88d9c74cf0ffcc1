// Typed reads of metadata that record a problem instead of throwing: llama.cpp demands the exact
// GGUF type of each key, and a wrong type fails a load just as a missing key does.
import type { GgufScalarType, GgufValue } from './gguf-value.js';

interface KeyPresence {
  /** A missing key is a problem; without it, a missing key reads as undefined. */
  required?: boolean;
}

export class MetadataChecker {
  constructor(
    private readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly problems: string[],
  ) {}

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  keys(): IterableIterator<string> {
    return this.metadata.keys();
  }

  string(key: string, presence: KeyPresence = {}): string | undefined {
    const value = this.typed(key, 'string', presence);
    return value?.type === 'string' ? value.value : undefined;
  }

  bool(key: string): boolean | undefined {
    const value = this.typed(key, 'bool');
    return value?.type === 'bool' ? value.value : undefined;
  }

  /** A uint32 key; `positive` (the default) also refuses 0, for sizes that llama.cpp divides by. */
  uint32(key: string, { positive = true, ...presence }: KeyPresence & { positive?: boolean } = {}): number | undefined {
    const value = this.typed(key, 'uint32', presence);
    if (value?.type !== 'uint32') return undefined;
    if (positive && value.value === 0) return this.refuse(`metadata '${key}' is 0; it must be positive`);
    return value.value;
  }

  float32(key: string, presence: KeyPresence = {}): number | undefined {
    const value = this.typed(key, 'float32', presence);
    if (value?.type !== 'float32') return undefined;
    if (!Number.isFinite(value.value) || value.value <= 0)
      return this.refuse(`metadata '${key}' is ${value.value}; it must be a positive finite number`);
    return value.value;
  }

  /**
   * A per-layer size, which llama.cpp accepts as one uint32 or as an array of uint32/int32 with one
   * value per layer. Returns one value per layer.
   */
  perLayer(key: string, layers: number, presence: KeyPresence = {}): number[] | undefined {
    const value = this.metadata.get(key);
    if (value === undefined) return presence.required ? this.refuse(`missing metadata '${key}'`) : undefined;
    if (value.type === 'array') {
      if (value.itemType !== 'uint32' && value.itemType !== 'int32')
        return this.refuse(`metadata '${key}' is an array of ${value.itemType}; expected uint32 or int32`);
      if (value.value.length !== layers)
        return this.refuse(`metadata '${key}' has ${value.value.length} values for ${layers} layers`);
      const sizes = value.value as number[];
      if (sizes.some((n) => n <= 0)) return this.refuse(`metadata '${key}' has a value <= 0`);
      return sizes;
    }
    const single = this.uint32(key, presence);
    return single === undefined ? undefined : new Array<number>(layers).fill(single);
  }

  /** An array whose items are all of itemType. */
  array(key: string, itemType: GgufScalarType, presence: KeyPresence = {}): readonly unknown[] | undefined {
    const value = this.metadata.get(key);
    if (value === undefined) return presence.required ? this.refuse(`missing metadata '${key}'`) : undefined;
    if (value.type !== 'array' || value.itemType !== itemType) {
      const actual = value.type === 'array' ? `an array of ${value.itemType}` : `a ${value.type}`;
      return this.refuse(`metadata '${key}' is ${actual}; expected an array of ${itemType}`);
    }
    return value.value;
  }

  refuse(problem: string): undefined {
    this.problems.push(problem);
    return undefined;
  }

  private typed(key: string, type: GgufValue['type'], presence: KeyPresence = {}): GgufValue | undefined {
    const value = this.metadata.get(key);
    if (value === undefined) return presence.required ? this.refuse(`missing metadata '${key}'`) : undefined;
    if (value.type !== type) return this.refuse(`metadata '${key}' is a ${value.type}; llama.cpp needs a ${type}`);
    return value;
  }
}
