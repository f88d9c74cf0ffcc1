// Shapes for random-weight models from a parameter target such as "134M" or "1B".
//
// Two targets reproduce the shapes of well-known small models, so load tests see realistic work:
//   134M  SmolLM-135M:   dim 576,  30 layers, 9 heads (3 kv),  ffn 1536, vocab 49152, tied output -> 134.5M
//   1B    TinyLlama-1.1B: dim 2048, 22 layers, 32 heads (4 kv), ffn 5632, vocab 32000               -> 1.10B
// Any other target searches widths (multiples of 64, head size 64) with depth = width / 32, ffn
// = 8/3 width rounded up to 256 (llama's rule), grouped-query attention (heads / kv heads = 4, 3
// or 2 where it divides), vocab 32000, output tied to the embeddings below 500M parameters (as
// small models do), and takes the width whose parameter count comes closest to the target.
import { llamaFamilyParameterCount, type LlamaFamilyArchitecture, type LlamaFamilyShape } from '#gguf';

export interface ModelShape {
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly tiedOutput: boolean;
}

const presets: Readonly<Record<string, ModelShape>> = {
  '134M': { dim: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, tiedOutput: true },
  '1B': { dim: 2048, layers: 22, heads: 32, kvHeads: 4, ffn: 5632, vocab: 32000, tiedOutput: false },
};

const HEAD_SIZE = 64;
const VOCAB = 32000;
const TIE_BELOW = 500e6;

/** "134M", "1.5B", "800k", "30000000" -> a parameter count. */
export function parseParameterCount(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmMbB]?)$/.exec(text.trim());
  if (!match) throw new RangeError(`cannot read parameter count '${text}' (examples: 134M, 1B, 1.5B)`);
  const scale = { '': 1, k: 1e3, m: 1e6, b: 1e9 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'b'];
  return Number(match[1]) * scale;
}

/** 134_515_008 -> "134.5M". */
export function formatParameterCount(count: number): string {
  if (count >= 1e9) return `${+(count / 1e9).toFixed(2)}B`;
  if (count >= 1e6) return `${+(count / 1e6).toFixed(1)}M`;
  return `${+(count / 1e3).toFixed(1)}k`;
}

export function shapeForTarget(target: string): ModelShape {
  const preset = presets[target.toUpperCase()];
  if (preset) return preset;
  const goal = parseParameterCount(target);
  let best: { shape: ModelShape; error: number } | undefined;
  for (let dim = 2 * HEAD_SIZE; dim <= 8192; dim += HEAD_SIZE) {
    const heads = dim / HEAD_SIZE;
    const groupSize = [4, 3, 2].find((g) => heads % g === 0) ?? 1;
    const untied: ModelShape = {
      dim,
      layers: Math.max(2, Math.round(dim / 32)),
      heads,
      kvHeads: heads / groupSize,
      ffn: Math.ceil((dim * 8) / 3 / 256) * 256,
      vocab: VOCAB,
      tiedOutput: false,
    };
    const shape = { ...untied, tiedOutput: parameterCount('llama', untied) < TIE_BELOW };
    const error = Math.abs(parameterCount('llama', shape) - goal);
    if (!best || error < best.error) best = { shape, error };
  }
  return best!.shape;
}

/** The same shape in the GGUF library's terms. */
export function toLlamaFamilyShape(architecture: LlamaFamilyArchitecture, shape: ModelShape): LlamaFamilyShape {
  return {
    architecture,
    vocabSize: shape.vocab,
    embeddingLength: shape.dim,
    blockCount: shape.layers,
    feedForwardLength: shape.ffn,
    headCount: shape.heads,
    headCountKv: shape.kvHeads,
  };
}

export function parameterCount(architecture: LlamaFamilyArchitecture, shape: ModelShape): number {
  return llamaFamilyParameterCount(toLlamaFamilyShape(architecture, shape), { tiedOutput: shape.tiedOutput });
}

/** Why llama.cpp (or our quantizers) could not use this shape, or undefined. */
export function shapeProblem(shape: ModelShape): string | undefined {
  const { dim, layers, heads, kvHeads, ffn, vocab } = shape;
  if (![dim, layers, heads, kvHeads, ffn, vocab].every((n) => Number.isInteger(n) && n > 0))
    return 'every size must be a positive integer';
  if (dim % heads !== 0) return `dim ${dim} is not a multiple of heads ${heads}`;
  if ((dim / heads) % 2 !== 0) return `head size ${dim / heads} must be even (RoPE rotates pairs)`;
  if (heads % kvHeads !== 0) return `heads ${heads} is not a multiple of kv-heads ${kvHeads}`;
  if (dim % 32 !== 0 || ffn % 32 !== 0)
    return `dim and ffn must be multiples of 32 for Q8_0/Q4_0 blocks (got ${dim}, ${ffn})`;
  return undefined;
}
