import type { Redis } from 'ioredis';

/**
 * This replica's reading of Redis's clock: the offset between Redis's TIME and ours, read whenever the connection
 * becomes ready (after every reconnect). The admission script compares a caller's give-up moment with Redis's own
 * clock (admission.ts), so that a skew between the two machines' clocks cannot make it refuse, or take, every ticket.
 * Until the first reading, the offset is 0: the clocks of machines kept by NTP agree to far less than the margin.
 */
export class RedisClock {
  private offsetMs = 0;

  constructor(private readonly redis: Redis) {
    redis.on('ready', () => void this.read());
  }

  /** Our epoch milliseconds `localMs`, on Redis's clock. */
  toRedis(localMs: number): number {
    return localMs + this.offsetMs;
  }

  private async read(): Promise<void> {
    const sentAt = Date.now();
    try {
      const [seconds, micros] = await this.redis.time();
      const receivedAt = Date.now();
      this.offsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sentAt + receivedAt) / 2;
    } catch {
      // Redis went away again: the next 'ready' reads it.
    }
  }
}
