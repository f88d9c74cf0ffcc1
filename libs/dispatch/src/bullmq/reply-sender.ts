import type { Redis } from 'ioredis';
import { served } from './admission.js';
import type { Reply } from './job-messages.js';
import type { RedisNames } from './redis-keys.js';

const ignore = (): void => undefined;

/**
 * The worker's way back to the client: straight into this replica's memory when the client is here (no Redis round
 * trip on the common path), over the client's replica channel when it is elsewhere. Messages of one job leave on one
 * connection, so they arrive in order.
 */
export class ReplySender {
  constructor(
    private readonly replicaId: string,
    private readonly names: RedisNames,
    private readonly commands: Redis,
    private readonly deliverHere: (reply: Reply) => boolean,
  ) {}

  /**
   * How many replicas heard it (0: the client's replica is gone, or no longer waits for this job): known at once for
   * a client in this replica, after a round trip for one elsewhere.
   */
  send(replyTo: string, reply: Reply): number | Promise<number> {
    if (replyTo === this.replicaId) return this.deliverHere(reply) ? 1 : 0;
    return this.commands.publish(this.names.replies(replyTo), JSON.stringify(reply)).catch(() => 0);
  }

  /**
   * The job's last word: gives its admission ticket back, records how long it ran (`ran`, for a job that reached
   * the backend) and sends the reply, if any. The ticket goes first, on the
   * same connection, so a client that sends its next request on hearing this one finds the place already free.
   */
  finish(
    modelId: string,
    jobId: string,
    replyTo: string,
    reply: Reply | null,
    ran?: { ms: number; slots: number },
  ): void {
    const tickets = this.names.tickets(modelId);
    const pipeline = this.commands.pipeline().zrem(tickets, jobId);
    // A job that held a slot teaches the shared estimate how long slots are held (admission.ts).
    if (ran) served(pipeline, { service: this.names.service(modelId), tickets }, ran.ms, ran.slots);
    if (replyTo === this.replicaId) {
      pipeline.exec().catch(ignore);
      if (reply) this.deliverHere(reply);
      return;
    }
    if (reply) pipeline.publish(this.names.replies(replyTo), JSON.stringify(reply));
    pipeline.exec().catch(ignore);
  }
}
