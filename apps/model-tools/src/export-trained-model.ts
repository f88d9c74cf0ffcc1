// CLI: exports a trained checkpoint directory to GGUF.
//   npm run model:export -- --in models/training/llama3 --out models/llama3-tiny-q8_0.gguf
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { GgmlType } from '#gguf';
import { parseWeightType, runCli, UsageError } from './cli.js';
import { exportTrainedModel } from './trained-model-export.js';

const usage = `usage: export-trained-model --in models/training/<name> [--out models/<file>.gguf] [--type Q8_0|Q4_0|F16|F32] [--name NAME]
  --in     checkpoint directory: model.safetensors, config.json, tokenizer.json
  --out    default models/<checkpoint folder>-<type>.gguf
  --type   weight matrix type (default Q8_0); norms and biases stay F32
  --name   general.name (default: config.json "name")`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      type: { type: 'string', default: 'Q8_0' },
      name: { type: 'string' },
    },
  });
  if (values.in === undefined) throw new UsageError('--in is required');
  const type = parseWeightType(values.type, [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0]);
  const out = values.out ?? `models/${basename(values.in)}-${values.type.toLowerCase()}.gguf`;
  await mkdir(dirname(out), { recursive: true });
  const started = performance.now();
  const result = await exportTrainedModel({
    checkpointDir: values.in,
    out,
    type,
    ...(values.name === undefined ? {} : { name: values.name }),
  });
  for (const note of result.notes) console.log(`note: ${note}`);
  console.log(
    `wrote ${result.out}: ${result.parameters} parameters, ${(result.bytes / 2 ** 20).toFixed(2)} MiB, ${values.type.toUpperCase()}, ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s; validated`,
  );
}

await runCli(main, usage);
