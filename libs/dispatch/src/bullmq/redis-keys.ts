/**
 * Names in Redis. BullMQ keeps each model's queue under `<prefix>:<model>:*` (so `sluice:qwen2:wait`, ...); our own
 * additions sit beside them, and channels carry no data at rest.
 */
export class RedisNames {
  constructor(readonly prefix: string) {}

  /** The model's admission tickets (see admission.ts). */
  tickets(modelId: string): string {
    return `${this.prefix}:${modelId}:admitted`;
  }

  /** The model's shared service-rate estimate (see admission.ts). */
  service(modelId: string): string {
    return `${this.prefix}:${modelId}:service`;
  }

  /** The model's fair turns: each waiting caller's next turn, and the clock (see admission.ts). */
  turns(modelId: string): string {
    return `${this.prefix}:${modelId}:turns`;
  }

  /** BullMQ's list of the model's running jobs' ids. */
  active(modelId: string): string {
    return `${this.prefix}:${modelId}:active`;
  }

  /** BullMQ's meta hash of the model's queue, where its global concurrency lives. */
  meta(modelId: string): string {
    return `${this.prefix}:${modelId}:meta`;
  }

  /** The calls in flight on one backend replica of the model, from every gateway (see replica-calls.ts). */
  replicaCalls(modelId: string, address: string): string {
    return `${this.prefix}:${modelId}:calls:${address}`;
  }

  /** Where a replica hears the tokens and outcomes of its clients' jobs. */
  replies(replicaId: string): string {
    return `${this.prefix}:replies:${replicaId}`;
  }

  /** Every replica hears every cancellation: only the one running the job acts on it. */
  get cancellations(): string {
    return `${this.prefix}:cancel`;
  }
}
