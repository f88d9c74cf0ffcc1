import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry } from '#model-registry';
import { BackendDirectory } from './backends/backend-directory.js';
import { DispatchQueueHost, dispatchQueueProvider } from './dispatch.providers.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config.js';
import { GenerateController } from './generate/generate.controller.js';
import { GenerateService } from './generate/generate.service.js';
import { HealthController } from './health/health.controller.js';
import { MetricsReporter } from './metrics/metrics-reporter.service.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ModelsController } from './models/models.controller.js';
import { ModelsService } from './models/models.service.js';
import { ReadinessMonitor } from './readiness/readiness-monitor.service.js';

@Module({})
export class AppModule {
  /** The config and the registry are read and validated before Nest starts, so a bad file fails with its message. */
  static forRoot(config: GatewayConfig, registry: ModelRegistry, metrics: GatewayMetrics): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [GenerateController, ModelsController, HealthController, MetricsController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: ModelRegistry, useValue: registry },
        { provide: GatewayMetrics, useValue: metrics },
        MetricsReporter,
        { provide: BackendDirectory, useValue: new BackendDirectory() },
        DispatchQueueHost,
        dispatchQueueProvider,
        EngineSupervisor,
        ReadinessMonitor,
        GenerateService,
        ModelsService,
      ],
    };
  }
}
