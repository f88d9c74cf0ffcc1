import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { GatewayError, type ChatDelta, type TgiStreamEvent } from '#backends';
import type { DispatchLimits, JobExecutor } from '../dispatch-queue.js';
import { queuedTimeoutError } from '../dispatch-errors.js';
import { defineAdmission, turnStarted } from './admission.js';
import { serializeError, type CancelNotice, type JobData, type Reply } from './job-messages.js';
import { RedisNames } from './redis-keys.js';
import type { ReplySender } from './reply-sender.js';

export interface JobRunnerOptions {
  prefix: string;
  /** Shared by the Workers; each adds its own blocking duplicate. */
  connection: Redis;
  limits: ReadonlyMap<string, DispatchLimits>;
  execute: JobExecutor;
  replies: ReplySender;
  replicaId: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  onError: (error: Error) => void;
}

/**
 * The executing side of the Redis queue: one BullMQ Worker per model, whose jobs may come from any replica. Its
 * concurrency is the model's max_concurrent, and the queue's global concurrency (set by admission) makes that the
 * cap over all replicas together.
 */
export class JobRunner {
  private readonly workers: Worker<JobData>[] = [];
  private readonly workerOf = new Map<string, Worker<JobData>>();
  private readonly running = new Map<string, AbortController>();
  /** Jobs running here, per model: a model going from none to one marks the shared estimate busy (admission.ts). */
  private readonly runningPerModel = new Map<string, number>();
  private readonly names: RedisNames;
  /** Jobs cancelled before they reached this replica's processor, until they could not run anyway. */
  private readonly cancelledEarly = new Map<string, number>();

  constructor(private readonly options: JobRunnerOptions) {
    this.names = new RedisNames(options.prefix);
    defineAdmission(options.connection);
    for (const [modelId, limits] of options.limits) {
      const worker = new Worker<JobData>(modelId, (job) => this.run(modelId, job), {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: limits.maxConcurrent,
        // A job whose worker died is failed, never run a second time: its client may already have part of an answer.
        maxStalledCount: 0,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
      });
      worker.on('failed', (job, error) => job && this.reportLost(modelId, job, error));
      worker.on('error', options.onError);
      this.workers.push(worker);
      this.workerOf.set(modelId, worker);
    }
  }

  /** The model's cap changed (setMaxConcurrent): this replica's worker runs that many of its jobs at once. */
  setConcurrency(modelId: string, concurrency: number): void {
    const worker = this.workerOf.get(modelId);
    if (worker) worker.concurrency = concurrency;
  }

  async whenReady(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /** A client left: abort its job if it runs here, or make sure it never starts here. */
  cancel({ id, until }: CancelNotice): void {
    const running = this.running.get(id);
    if (running) return running.abort(new Error('client disconnected'));
    const now = Date.now();
    for (const [jobId, expiry] of this.cancelledEarly) if (expiry < now) this.cancelledEarly.delete(jobId);
    this.cancelledEarly.set(id, until);
  }

  /** Redis is gone: no reply could reach its client, so no backend call is worth finishing. */
  abortAll(reason: GatewayError): void {
    for (const controller of this.running.values()) controller.abort(reason);
  }

  /** Stops fetching jobs and waits for the running ones (other replicas' clients among them) to finish. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }

  private async run(modelId: string, job: Job<JobData>): Promise<void> {
    const id = job.id!;
    const { request, deadline, replyTo, relayTokens, turn } = job.data;
    const { replies } = this.options;
    if (this.cancelledEarly.delete(id)) return replies.finish(modelId, id, replyTo, null);
    if (Date.now() >= deadline)
      return replies.finish(modelId, id, replyTo, failed(id, queuedTimeoutError(modelId, Date.now() - job.timestamp)));

    // Is anyone still waiting? Known at once for a client in this replica. For one elsewhere, the `started` message's
    // delivery count says whether its replica still listens (one killed with jobs queued): asked alongside the backend
    // call, not before it, so that the answer costs no latency; a "no" aborts the call.
    const heard = replies.send(replyTo, { id, kind: 'started' });
    if (heard === 0) return replies.finish(modelId, id, replyTo, null);
    // Newcomers from now on take turns no earlier than this one's (caller-turns.ts); nobody waits for the write.
    if (turn) turnStarted(this.options.connection, this.names.turns(modelId), turn).catch(this.options.onError);
    const controller = new AbortController();
    if (typeof heard !== 'number')
      void heard.then((n) => n === 0 && controller.abort(new Error('nobody waits for this job')));
    this.running.set(id, controller);
    const runningHere = (this.runningPerModel.get(modelId) ?? 0) + 1;
    this.runningPerModel.set(modelId, runningHere);
    // The quiet time of the shared estimate counts from a backend's first job, not from its admission: BullMQ's
    // pickup of a cold burst is not the backend being slow.
    if (runningHere === 1)
      this.options.connection.hset(this.names.service(modelId), 'busy', Date.now()).catch(this.options.onError);
    const startedAt = performance.now();
    const slots = this.options.limits.get(modelId)!.maxConcurrent;
    try {
      // The executor calls the one its request's protocol streams: onToken for a generation, onDelta for a chat.
      const relays = relayTokens
        ? {
            onToken: (event: TgiStreamEvent) => void replies.send(replyTo, { id, kind: 'token', event }),
            onDelta: (delta: ChatDelta) => void replies.send(replyTo, { id, kind: 'delta', delta }),
          }
        : {};
      const outcome = await this.options.execute(modelId, request, { signal: controller.signal, deadline, ...relays });
      const runMs = performance.now() - startedAt;
      replies.finish(modelId, id, replyTo, { id, kind: 'done', outcome, runMs }, { ms: runMs, slots });
    } catch (error) {
      // The gateway's own fault: the client is told `internal`, the details go to this replica's log.
      if (!(error instanceof GatewayError) && error instanceof Error) this.options.onError(error);
      // Aborted: the client left, or Redis did; either way nobody waits for an answer.
      const reply = controller.signal.aborted ? null : failed(id, error);
      replies.finish(modelId, id, replyTo, reply, { ms: performance.now() - startedAt, slots });
    } finally {
      this.running.delete(id);
      this.runningPerModel.set(modelId, (this.runningPerModel.get(modelId) ?? 1) - 1);
    }
  }

  /**
   * Our processor never throws, so a failed job is one BullMQ failed itself: its worker died mid-job and the stalled
   * check gave up on it (maxStalledCount 0). Its client gets one answer: this one.
   */
  private reportLost(modelId: string, job: Job<JobData>, error: Error): void {
    const lost = new GatewayError(
      'upstream',
      `the gateway replica running this request stopped mid-generation (${error.message})`,
    );
    this.options.replies.finish(modelId, job.id!, job.data.replyTo, failed(job.id!, lost));
  }
}

function failed(id: string, error: unknown): Reply {
  return { id, kind: 'failed', error: serializeError(error) };
}
