import { readFileSync } from 'node:fs';
import type { Target } from '../client/target-api.js';
import type { RssSample } from './memory-growth.js';

/** Resident set size of a process from /proc/<pid>/status (Linux); null once the process is gone. */
export function readRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface WatchedProcess {
  name: string;
  pid: number;
  samples: RssSample[];
}

/**
 * The engines the gateway started, from its admin `GET /models` (`backend.pid`); none when the target is not a
 * gateway, or the key lacks the admin scope (the summary view has no backend).
 */
export async function enginePids(target: Target): Promise<Array<{ name: string; pid: number }>> {
  try {
    const response = await fetch(`${target.url}/models`, {
      headers: target.apiKey === undefined ? {} : { authorization: `Bearer ${target.apiKey}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) return [];
    const body = (await response.json()) as { models?: Array<{ id: string; backend?: { pid?: number | null } }> };
    return (body.models ?? []).flatMap((m) =>
      typeof m.backend?.pid === 'number' ? [{ name: `engine ${m.id}`, pid: m.backend.pid }] : [],
    );
  } catch {
    return [];
  }
}

/**
 * Samples the RSS of the gateway (a pid given) and of every engine it lists, every `everyMs`; an engine restarted
 * under a new pid becomes a new row, so its old process's figures are not mixed with the new one's.
 */
export class RssSampler {
  readonly processes: WatchedProcess[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: Target,
    gatewayPid: number | null,
    private readonly startMs: number,
  ) {
    if (gatewayPid !== null) this.processes.push({ name: 'gateway', pid: gatewayPid, samples: [] });
  }

  /** Finds the engines and takes the first sample. */
  async start(everyMs: number): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, everyMs);
  }

  /** Stops sampling after one last sample, so the final figures are the load's end. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
  }

  private async sample(): Promise<void> {
    for (const engine of await enginePids(this.target)) {
      if (!this.processes.some((p) => p.pid === engine.pid)) this.processes.push({ ...engine, samples: [] });
    }
    const atMs = performance.now() - this.startMs;
    for (const p of this.processes) {
      const rssBytes = readRssBytes(p.pid);
      if (rssBytes !== null) p.samples.push({ atMs, rssBytes });
    }
  }
}
