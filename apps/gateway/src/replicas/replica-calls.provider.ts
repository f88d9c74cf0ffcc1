import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { commandConnection, RedisReplicaCalls } from '#dispatch';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway-config.js';

/**
 * The calls in flight per replica over every gateway, kept in the dispatch queue's Redis (REDIS_URL); none without it,
 * when a gateway counts its own calls only. Owns its connection: requests' commands fail at once while Redis is away,
 * and routing then falls back to this gateway's own counts.
 */
@Injectable()
export class ReplicaCallsHost implements OnApplicationShutdown {
  readonly calls: RedisReplicaCalls | null;
  private readonly redis: Redis | null;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.redis = config.redisUrl === undefined ? null : commandConnection(config.redisUrl);
    this.calls = this.redis && new RedisReplicaCalls(this.redis, config.dispatchPrefix);
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
