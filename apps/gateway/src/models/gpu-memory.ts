import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errnoCode } from '#backends';

const run = promisify(execFile);
const CACHE_MS = 5000;

export interface GpuMemoryReading {
  gpus: Array<{ index: string; name: string; usedMb: number; totalMb: number }>;
  /** GPU memory by process id, for engines this gateway started. */
  byPid: Map<number, number>;
}

let unavailable = false;
let cached: { at: number; reading: Promise<GpuMemoryReading | null> } | undefined;

/**
 * GPU memory from `nvidia-smi`, cached for a few seconds. Null on machines without it (then never asked again), and
 * null for a reading that failed: a driver that did not answer once (busy, reset, a timeout) is asked again when the
 * cache expires, so one failure does not blind the budgets for the gateway's life.
 */
export function readGpuMemory(): Promise<GpuMemoryReading | null> {
  if (unavailable) return Promise.resolve(null);
  if (cached && Date.now() - cached.at < CACHE_MS) return cached.reading;
  const reading = query().catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') unavailable = true; // no nvidia-smi on this machine
    return null;
  });
  cached = { at: Date.now(), reading };
  return reading;
}

async function query(): Promise<GpuMemoryReading> {
  const csv = async (args: string[]) =>
    (await run('nvidia-smi', [...args, '--format=csv,noheader,nounits'], { timeout: 3000 })).stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(',').map((field) => field.trim()));
  const gpus = (await csv(['--query-gpu=index,name,memory.used,memory.total'])).map(([index, name, used, total]) => ({
    index: index!,
    name: name!,
    usedMb: Number(used),
    totalMb: Number(total),
  }));
  const byPid = new Map<number, number>();
  for (const [pid, used] of await csv(['--query-compute-apps=pid,used_memory'])) byPid.set(Number(pid), Number(used));
  return { gpus, byPid };
}

/** GPU memory in use (MiB, as nvidia-smi counts) above a budget in GB (GiB, as the registry's budgets are written). */
export function isOverBudget(usedMb: number, budgetGb: number): boolean {
  return usedMb > budgetGb * 1024;
}
