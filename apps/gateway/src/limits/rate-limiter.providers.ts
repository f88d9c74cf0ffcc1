import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { commandConnection } from '#dispatch';
import { GatewayMetrics } from '#metrics';
import { InProcessRateLimiter, OutageFallbackRateLimiter, RedisRateLimiter, type RateLimiter } from '#rate-limits';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';

export const RATE_LIMITER = Symbol('RATE_LIMITER');

/**
 * Builds the limiter of API keys' limits as the dispatch queue is chosen: in Redis under the queue's prefix when
 * REDIS_URL is set (counts shared by every replica), else in process. While Redis is unreachable, it answers as
 * RATE_LIMIT_REDIS_DOWN says, logging the outage once and counting each such decision in Prometheus.
 */
@Injectable()
export class RateLimiterHost implements OnApplicationShutdown {
  readonly limiter: RateLimiter;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(GatewayMetrics) metrics: GatewayMetrics) {
    if (!config.redisUrl) {
      this.limiter = new InProcessRateLimiter();
      return;
    }
    const logger = new Logger('RateLimits');
    const policy = config.rateLimitRedisDown;
    const redis = commandConnection(config.redisUrl);
    // Connection errors surface as failed acquires, which the fallback reports once per outage.
    redis.on('error', () => {});
    this.limiter = new OutageFallbackRateLimiter(
      new RedisRateLimiter({ redis, prefix: config.dispatchPrefix, ownsConnection: true }),
      policy,
      new InProcessRateLimiter(),
      {
        onOutage: (error) =>
          logger.error(
            `Redis is unreachable (${error.message}): limited keys' requests are ${policy === 'refuse' ? 'refused with 503' : 'counted by this replica alone'} until it answers (RATE_LIMIT_REDIS_DOWN=${policy})`,
          ),
        onRecovery: () => logger.log('Redis answers again: API keys are limited across all replicas again'),
        onDecidedWithoutRedis: (decision) => metrics.limitDecidedWithoutRedis(decision),
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.limiter.close();
  }
}

export const rateLimiterProvider: Provider = {
  provide: RATE_LIMITER,
  inject: [RateLimiterHost],
  useFactory: (host: RateLimiterHost) => host.limiter,
};
