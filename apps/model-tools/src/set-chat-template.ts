// CLI: sets (or replaces) the chat template of an existing GGUF, tensors copied byte for byte, the
// result validated before it takes its name. The training checkpoints are not shipped, so this is how
// the shipped models get a template without being re-exported.
//   npm run model:chat-template -- --in models/llama3-tiny-q8_0.gguf
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CHAT_TEMPLATE_KEY, readGgufHeader, setChatTemplate } from '#gguf';
import { runCli, UsageError } from './cli.js';
import { PLAIN_CHAT_TEMPLATE } from './plain-chat-template.js';

const usage = `usage: set-chat-template --in FILE.gguf [--out FILE.gguf] [--template-file FILE]
  --in             the GGUF to read
  --out            where to write (default: replace --in, atomically)
  --template-file  a Jinja chat template (default: the plain template of apps/model-tools/src/plain-chat-template.ts)`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { in: { type: 'string' }, out: { type: 'string' }, 'template-file': { type: 'string' } },
  });
  if (values.in === undefined) throw new UsageError('--in is required');
  const templateFile = values['template-file'];
  const template = templateFile === undefined ? PLAIN_CHAT_TEMPLATE : await readFile(templateFile, 'utf8');
  const previous = (await readGgufHeader(values.in)).metadata.get(CHAT_TEMPLATE_KEY);
  const result = await setChatTemplate({
    source: values.in,
    template,
    ...(values.out === undefined ? {} : { destination: values.out }),
  });
  const action = previous === undefined ? 'set' : previous.value === template ? 'kept' : 'replaced';
  console.log(
    `wrote ${result.path}: ${result.bytes} bytes, chat template ${action} (${template.length} chars); validated`,
  );
}

await runCli(main, usage);
