import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type {
  DispatchJob,
  DispatchLimits,
  DispatchQueue,
  DispatchResult,
  DispatchStats,
  JobExecutor,
} from '../dispatch-queue.js';
import {
  DEFAULT_MAX_QUEUE_WAIT_MS,
  predictedWaitMs,
  refusalReason,
  retryAfterSeconds,
  serviceRatePerS,
  waitBoundMs,
} from '../admission-rule.js';
import { overloadedError, queueUnavailableError } from '../dispatch-errors.js';
import { turnScale, UNNAMED_CALLER, type TurnScale } from '../caller-turns.js';
import { MAX_PRIORITY } from '../priority-policy.js';
import { admit, ADMISSION_MARGIN_MS, defineAdmission, release } from './admission.js';
import type { CancelNotice, JobData, Reply } from './job-messages.js';
import { JobRunner } from './job-runner.js';
import { PendingJob } from './pending-job.js';
import { COMMAND_TIMEOUT_MS, commandConnection, subscriberConnection, workerConnection } from './redis-connections.js';
import { RedisClock } from './redis-clock.js';
import { RedisNames } from './redis-keys.js';
import { ReplySender } from './reply-sender.js';

export interface BullmqDispatchQueueOptions {
  redisUrl: string;
  limits: ReadonlyMap<string, DispatchLimits>;
  /** Runs jobs taken by this replica's workers, whichever replica's clients they belong to. */
  execute: JobExecutor;
  /** false: this replica only enqueues, and other replicas' workers run its jobs. Default true. */
  runWorkers?: boolean;
  /** Of every key and channel (default `sluice`); replicas that share caps share it. */
  prefix?: string;
  /**
   * A worker's hold on a running job without renewal (default DEFAULT_LOCK_DURATION_MS; BullMQ renews it every half);
   * a dead worker's job is failed after it.
   */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died (default DEFAULT_STALLED_INTERVAL_MS). */
  stalledIntervalMs?: number;
  /** Redis and BullMQ errors, for the log; a message repeated within 10 s is held back (an outage repeats it). */
  onError?: (message: string) => void;
}

interface ModelLine {
  limits: DispatchLimits;
  maxQueueWaitMs: number;
  turnScale: TurnScale;
  queue: Queue<JobData>;
}

const ignore = (): void => undefined;

/**
 * A replica killed mid-job leaves its jobs locked for at most this long; with the stalled check below, its clients
 * hear within about 5 s. Shorter locks would make a busy event loop that misses one renewal (every 2 s) fail a job
 * that still runs.
 */
export const DEFAULT_LOCK_DURATION_MS = 4000;
export const DEFAULT_STALLED_INTERVAL_MS = 1000;

/** An admission that got no answer: its ticket, if the script took one, is given back once Redis is back. */
interface AbandonedAdmission {
  tickets: string;
  uuid: string;
  until: number;
}

/**
 * The dispatch queue over Redis with BullMQ, shared by every gateway replica: a queue per model (`<prefix>:<model>`),
 * capped across replicas by BullMQ's global concurrency, bounded by admission tickets (admission.ts), run by any
 * replica's workers (job-runner.ts), answered over the client's replica channel. A job holds its prompt in Redis only
 * while it is queued or running.
 */
export class BullmqDispatchQueue implements DispatchQueue {
  readonly replicaId = randomUUID();
  private readonly names: RedisNames;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly workerRedis: Redis | undefined;
  private readonly lines = new Map<string, ModelLine>();
  private readonly pending = new Map<string, PendingJob>();
  private readonly runner: JobRunner | undefined;
  private readonly subscribed: Promise<unknown>;
  /** Jobs whose clients were answered 503 when Redis went away, to cancel should Redis come back still holding them. */
  private orphans: Array<CancelNotice & { modelId: string }> = [];
  private abandoned: AbandonedAdmission[] = [];
  private readonly clock: RedisClock;
  private closing = false;

  constructor(options: BullmqDispatchQueueOptions) {
    const prefix = options.prefix ?? 'sluice';
    const report = heldBack(options.onError ?? ignore);
    this.names = new RedisNames(prefix);
    this.commands = commandConnection(options.redisUrl);
    defineAdmission(this.commands);
    this.clock = new RedisClock(this.commands);
    this.subscriber = subscriberConnection(options.redisUrl);
    for (const connection of [this.commands, this.subscriber]) {
      connection.on('error', (error: Error) => report(`redis: ${error.message}`));
      connection.on('close', () => this.redisLost());
      connection.on('ready', () => this.redisBack());
    }
    this.subscriber.on('message', (channel: string, message: string) => this.hear(channel, message));
    this.subscribed = this.subscriber.subscribe(this.names.replies(this.replicaId), this.names.cancellations);
    this.subscribed.catch(ignore);

    // Its own copies: a model's cap changes with its ready backend replicas (setMaxConcurrent).
    const ownLimits = new Map([...options.limits].map(([modelId, limits]) => [modelId, { ...limits }]));
    for (const [modelId, limits] of ownLimits) {
      const queue = new Queue<JobData>(modelId, {
        connection: this.commands,
        prefix,
        defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
        // The event stream holds job ids only (never data); nothing here reads it, so keep it short.
        streams: { events: { maxLen: 100 } },
      });
      queue.on('error', (error) => report(`queue ${modelId}: ${error.message}`));
      const maxQueueWaitMs = limits.maxQueueWaitMs ?? DEFAULT_MAX_QUEUE_WAIT_MS;
      const scale = turnScale(limits.highestPriority ?? MAX_PRIORITY - 1);
      this.lines.set(modelId, { limits, maxQueueWaitMs, turnScale: scale, queue });
    }

    if (options.runWorkers !== false) {
      this.workerRedis = workerConnection(options.redisUrl);
      this.workerRedis.on('error', (error: Error) => report(`redis (workers): ${error.message}`));
      this.runner = new JobRunner({
        prefix,
        connection: this.workerRedis,
        limits: ownLimits,
        execute: options.execute,
        replies: new ReplySender(this.replicaId, this.names, this.commands, (reply) => this.deliver(reply)),
        replicaId: this.replicaId,
        lockDurationMs: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
        stalledIntervalMs: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
        onError: (error) => report(`worker: ${error.message}`),
      });
    }
  }

  /** Resolves once connected, subscribed and (with workers) fetching jobs. Dispatching earlier answers 503. */
  async whenReady(): Promise<void> {
    await this.subscribed;
    await Promise.all([...this.lines.values()].map((line) => line.queue.waitUntilReady()));
    await this.runner?.whenReady();
  }

  async dispatch(modelId: string, job: DispatchJob): Promise<DispatchResult> {
    const line = this.line(modelId);
    if (job.signal.aborted) throw job.signal.reason;
    if (!this.connected) throw queueUnavailableError('not connected to Redis');
    const enqueuedAt = performance.now();
    const tickets = this.names.tickets(modelId);
    const { maxConcurrent, maxQueued } = line.limits;
    const { maxQueueWaitMs } = line;
    const now = Date.now();
    const uuid = randomUUID();
    // This caller's wait for the script's answer ends at its command timeout, or at its deadline if that is sooner.
    const giveUpAt = this.clock.toRedis(Math.min(job.deadline, now + COMMAND_TIMEOUT_MS - ADMISSION_MARGIN_MS));
    let admission;
    try {
      admission = await admit(
        this.commands,
        {
          tickets,
          meta: this.names.meta(modelId),
          service: this.names.service(modelId),
          turns: this.names.turns(modelId),
          active: this.names.active(modelId),
          uuid,
          priority: job.priority,
          caller: job.client ?? { id: UNNAMED_CALLER, weight: 1 },
          scale: line.turnScale,
          deadline: job.deadline,
          maxConcurrent,
          maxQueued,
          maxQueueWaitMs,
          giveUpAt,
        },
        now,
      );
    } catch (error) {
      this.release({ tickets, uuid, until: job.deadline });
      throw queueUnavailableError(error instanceof Error ? error.message : String(error), error);
    }
    if (admission.late) throw queueUnavailableError('Redis answered the admission after this request gave up on it');
    if (!admission.admitted) {
      const { full, predictedWaitMs: predictedMs } = admission;
      const why = refusalReason({
        full,
        predictedMs,
        boundMs: waitBoundMs(maxQueueWaitMs, job.deadline, now),
        maxQueueWaitMs,
      });
      const occupancy = `${admission.held} requests running or queued over all replicas: ${why}`;
      throw overloadedError(modelId, occupancy, retryAfterSeconds(predictedMs, maxQueueWaitMs));
    }
    const { jobId: id, order, turn } = admission;
    if (job.signal.aborted) {
      this.commands.zrem(tickets, id).catch(ignore);
      throw job.signal.reason;
    }

    // Listening before the job exists: a fast worker's answer cannot arrive unheard.
    const pending = new PendingJob(id, modelId, job, enqueuedAt, {
      started: ignore,
      gaveUp: (p) => this.cancel(p.modelId, p.id, p.deadline),
      settled: (p) => this.pending.delete(p.id),
    });
    this.pending.set(id, pending);
    const data: JobData = {
      request: job.request,
      deadline: job.deadline,
      replyTo: this.replicaId,
      relayTokens: job.onToken !== undefined || job.onDelta !== undefined,
      ...(turn ? { turn } : {}),
    };
    line.queue.add('generate', data, { jobId: id, priority: order }).catch((error: Error) => {
      pending.fail(queueUnavailableError(error.message, error));
      this.commands.zrem(tickets, id).catch(ignore);
    });
    return pending.result;
  }

  /**
   * This replica's workers take the new concurrency at once; the queue's global one is written now and again by
   * every admission (admission.ts), so that the last gateway to see the change sets it for all.
   */
  setMaxConcurrent(modelId: string, maxConcurrent: number): void {
    const line = this.line(modelId);
    line.limits.maxConcurrent = maxConcurrent;
    this.runner?.setConcurrency(modelId, maxConcurrent);
    if (this.connected) line.queue.setGlobalConcurrency(maxConcurrent).catch(ignore);
  }

  async stats(modelId: string): Promise<DispatchStats> {
    // Before its first connection BullMQ would wait for Redis, not fail: answer for it.
    if (!this.connected) throw queueUnavailableError('not connected to Redis');
    const line = this.line(modelId);
    try {
      const [counts, admitted, estimate] = await Promise.all([
        line.queue.getJobCounts('active', 'waiting', 'prioritized'),
        this.commands.zcount(this.names.tickets(modelId), Date.now(), '+inf'),
        this.commands.hgetall(this.names.service(modelId)),
      ]);
      // The same reading as the admission script's (admission.ts), for a newcomer at the back of the line.
      const slots = line.limits.maxConcurrent;
      const now = Date.now();
      const since = Math.max(Number(estimate['last'] ?? 0), Number(estimate['busy'] ?? 0));
      const serviceMs = Math.max(
        Number(estimate['mean'] ?? 0),
        Number(estimate['cycle'] ?? 0),
        admitted > 0 && since > 0 ? now - since : 0,
      );
      return {
        inFlight: counts.active ?? 0,
        queued: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        admitted,
        serviceRatePerS: serviceRatePerS(serviceMs, slots),
        predictedWaitMs: predictedWaitMs({ ahead: Math.max(0, admitted - slots), held: admitted, slots, serviceMs }),
      };
    } catch (error) {
      throw queueUnavailableError(error instanceof Error ? error.message : String(error), error);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.runner?.close();
    await Promise.all([...this.lines.values()].map((line) => line.queue.close().catch(ignore)));
    for (const pending of [...this.pending.values()])
      pending.fail(queueUnavailableError('the gateway is shutting down'));
    await Promise.all(
      [this.commands, this.subscriber, this.workerRedis].flatMap((connection) =>
        connection ? [quit(connection)] : [],
      ),
    );
  }

  /**
   * Why requests cannot be queued now: not connected, or a Redis that keeps its sockets open but does not answer a
   * PING within `timeoutMs` (hung). Null when it answers. For readiness probes.
   */
  async unreachableReason(timeoutMs = 500): Promise<string | null> {
    if (!this.connected) return 'not connected to Redis';
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`Redis did not answer PING within ${timeoutMs} ms`), timeoutMs);
    });
    const answer = this.commands.ping().then(
      () => null,
      (error: Error) => `Redis PING failed: ${error.message}`,
    );
    try {
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private get connected(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  /**
   * The client gave up. A queued job is removed outright, prompt and all; a running one cannot be (BullMQ answers 0
   * for a locked job), so the notice on the cancellation channel reaches whichever replica runs it.
   */
  private cancel(modelId: string, id: string, until: number): void {
    const notice: CancelNotice = { id, until };
    this.runner?.cancel(notice);
    if (!this.connected) {
      this.orphans.push({ id, modelId, until }); // cancelled again, should Redis come back still holding it
      return;
    }
    this.line(modelId).queue.remove(id).catch(ignore);
    this.commands.publish(this.names.cancellations, JSON.stringify(notice)).catch(ignore);
    this.commands.zrem(this.names.tickets(modelId), id).catch(ignore);
  }

  /**
   * An admission failed on this side (its command timed out, or the connection dropped). Sent at once, RELEASE runs
   * after the admission on the same connection, whenever Redis gets to it; if it cannot be sent, it waits for Redis.
   */
  private release(admission: AbandonedAdmission): void {
    release(this.commands, admission.tickets, admission.uuid).catch(() => {
      const now = Date.now();
      this.abandoned = [...this.abandoned.filter(({ until }) => until > now), admission];
    });
  }

  private hear(channel: string, message: string): void {
    if (channel === this.names.cancellations) this.runner?.cancel(JSON.parse(message) as CancelNotice);
    else this.deliver(JSON.parse(message) as Reply);
  }

  private deliver(reply: Reply): boolean {
    return this.pending.get(reply.id)?.onReply(reply) ?? false;
  }

  /**
   * Redis went away: no reply can come and no job can be added, so every waiting client gets its 503 now rather than
   * at its deadline, and backend calls whose answers could not be delivered stop.
   */
  private redisLost(): void {
    if (this.closing) return;
    const error = queueUnavailableError('lost the connection to Redis');
    for (const pending of [...this.pending.values()]) {
      this.orphans.push({ id: pending.id, modelId: pending.modelId, until: pending.deadline });
      pending.fail(error);
    }
    this.runner?.abortAll(error);
  }

  private redisBack(): void {
    if (!this.connected || this.closing) return;
    const now = Date.now();
    for (const { id, modelId, until } of this.orphans.splice(0)) if (until > now) this.cancel(modelId, id, until);
    for (const admission of this.abandoned.splice(0)) if (admission.until > now) this.release(admission);
  }

  private line(modelId: string): ModelLine {
    const line = this.lines.get(modelId);
    if (!line) throw new Error(`no dispatch limits configured for model "${modelId}"`);
    return line;
  }
}

/** QUIT when Redis answers, a plain disconnect when it does not within half a second. */
async function quit(connection: Redis): Promise<void> {
  await Promise.race([connection.quit().catch(ignore), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
  connection.disconnect();
}

/** Passes each message on, but the same one at most once per 10 s: an outage repeats its error on every retry. */
function heldBack(report: (message: string) => void): (message: string) => void {
  const lastSent = new Map<string, number>();
  return (message) => {
    const now = Date.now();
    if (now - (lastSent.get(message) ?? -Infinity) < 10_000) return;
    lastSent.set(message, now);
    report(message);
  };
}
