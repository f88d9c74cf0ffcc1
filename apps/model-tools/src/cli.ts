// What the model-tool CLIs share: argument errors print usage and exit 2, other failures exit 1.
import { GgmlType, type WritableGgmlType } from '#gguf';

export class UsageError extends Error {}

export async function runCli(main: (argv: string[]) => Promise<void>, usage: string): Promise<void> {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    const usageProblem = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`error: ${(error as Error).message}`);
    if (usageProblem) console.error(usage);
    process.exitCode = usageProblem ? 2 : 1;
  }
}

const weightTypes: Readonly<Record<string, WritableGgmlType>> = {
  F32: GgmlType.F32,
  F16: GgmlType.F16,
  Q8_0: GgmlType.Q8_0,
  Q4_0: GgmlType.Q4_0,
};

export function parseWeightType(text: string, allowed: readonly WritableGgmlType[]): WritableGgmlType {
  const type = weightTypes[text.toUpperCase()];
  if (type === undefined || !allowed.includes(type)) {
    const names = Object.entries(weightTypes)
      .filter(([, t]) => allowed.includes(t))
      .map(([name]) => name);
    throw new UsageError(`--type must be one of ${names.join(', ')}, got '${text}'`);
  }
  return type;
}
