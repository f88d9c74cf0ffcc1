// CLI: writes a random-weight llama or qwen2 GGUF for load tests and cold-start comparisons.
//   npm run model:random -- --arch llama --params 134M --type Q4_0
//   npm run model:random -- --arch qwen2 --dim 512 --layers 8 --heads 8 --kv-heads 2 --ffn 1408 --vocab 32000
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { GgmlType, isLlamaFamilyArchitecture, validateGgufFile, type WritableGgmlType } from '#gguf';
import { formatParameterCount, parameterCount, shapeForTarget, shapeProblem, type ModelShape } from './model-shapes.js';
import { writeRandomModel } from './random-model.js';
import { parseWeightType, runCli, UsageError } from './cli.js';

const usage = `usage: make-random-model --arch llama|qwen2 (--params 134M | --dim D --layers L --heads H [--kv-heads K] --ffn F --vocab V)
       [--tied] [--type F16|Q8_0|Q4_0] [--seed N] [--ctx N] [--out FILE]
  --params     parameter target (134M and 1B reproduce SmolLM-135M and TinyLlama-1.1B shapes)
  --tied       with explicit sizes: no output.weight (tied to the embeddings)
  --type       weight type (default Q4_0); norms stay F32
  --seed       random seed (default 1)
  --ctx        context length written to the file (default 2048)
  --out        default models/generated/<arch>-<params>-<type>.gguf`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      arch: { type: 'string' },
      params: { type: 'string' },
      dim: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      ffn: { type: 'string' },
      vocab: { type: 'string' },
      tied: { type: 'boolean' },
      type: { type: 'string', default: 'Q4_0' },
      seed: { type: 'string', default: '1' },
      ctx: { type: 'string', default: '2048' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const architecture = values.arch ?? '';
  if (!isLlamaFamilyArchitecture(architecture))
    throw new UsageError(`--arch must be llama or qwen2, got '${architecture}'`);
  const type: WritableGgmlType = parseWeightType(values.type, [GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0]);
  const shape = values.params !== undefined ? shapeForTarget(values.params) : explicitShape(values);
  const problem = shapeProblem(shape);
  if (problem) throw new UsageError(problem);
  const params = parameterCount(architecture, shape);
  const label = values.params ?? formatParameterCount(params);
  const typeName = values.type.toUpperCase();
  const out = values.out ?? `models/generated/${architecture}-${label}-${typeName}.gguf`;
  console.log(
    `${architecture} ${formatParameterCount(params)} (${params} parameters): dim ${shape.dim}, ${shape.layers} layers, ` +
      `${shape.heads} heads (${shape.kvHeads} kv), ffn ${shape.ffn}, vocab ${shape.vocab}, ${shape.tiedOutput ? 'tied' : 'separate'} output; ${typeName}`,
  );
  await mkdir(dirname(out), { recursive: true });
  const started = performance.now();
  await writeRandomModel(out, {
    architecture,
    shape,
    type,
    seed: integer('--seed', values.seed),
    contextLength: integer('--ctx', values.ctx),
    label,
  });
  const seconds = (performance.now() - started) / 1000;
  await validateGgufFile(out);
  const { size } = await stat(out);
  console.log(`wrote ${out}: ${(size / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(1)} s; validated`);
}

function explicitShape(values: Record<string, string | boolean | undefined>): ModelShape {
  const required = ['dim', 'layers', 'heads', 'ffn', 'vocab'];
  const missing = required.filter((name) => typeof values[name] !== 'string');
  if (missing.length > 0)
    throw new UsageError(
      `give --params, or all of --dim --layers --heads --ffn --vocab (missing ${missing.map((n) => `--${n}`).join(' ')})`,
    );
  const get = (name: string): number => integer(`--${name}`, values[name] as string);
  const heads = get('heads');
  return {
    dim: get('dim'),
    layers: get('layers'),
    heads,
    kvHeads: typeof values['kv-heads'] === 'string' ? integer('--kv-heads', values['kv-heads']) : heads,
    ffn: get('ffn'),
    vocab: get('vocab'),
    tiedOutput: values['tied'] === true,
  };
}

function integer(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new UsageError(`${flag} must be a non-negative integer, got '${text}'`);
  return value;
}

await runCli(main, usage);
