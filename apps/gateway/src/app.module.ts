import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { GatewayMetrics } from '#metrics';
import { ModelRegistry } from '#model-registry';
import { BackendDirectory } from './backends/backend-directory.js';
import { backendFactory } from './backends/backend-factory.js';
import { DispatchQueueHost, dispatchQueueProvider } from './dispatch.providers.js';
import { ConsoleController } from './console/console.controller.js';
import { ConsoleStateService } from './console/console-state.service.js';
import { EngineSupervisor } from './engines/engine-supervisor.service.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config.js';
import { GenerateController } from './generate/generate.controller.js';
import { GenerateService } from './generate/generate.service.js';
import { RateLimitGate } from './limits/rate-limit-gate.service.js';
import { RateLimiterHost, rateLimiterProvider } from './limits/rate-limiter.providers.js';
import { ServingPath } from './serving/serving-path.service.js';
import { HealthController } from './health/health.controller.js';
import { GatewayExceptionFilter } from './http/exception.filter.js';
import { GatewayValidationPipe } from './http/gateway-validation.pipe.js';
import { MetricsReporter } from './metrics/metrics-reporter.service.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ModelsController } from './models/models.controller.js';
import { ModelsService } from './models/models.service.js';
import { ChatCompletionsController } from './openai/chat-completions.controller.js';
import { CompletionsController } from './openai/completions.controller.js';
import { OpenAiGenerationService } from './openai/openai-generation.service.js';
import { OpenAiModelsController } from './openai/openai-models.controller.js';
import { OpenAiModelsService } from './openai/openai-models.service.js';
import { ReadinessMonitor } from './readiness/readiness-monitor.service.js';
import { HOST_RESOLVER, lookupAll, type HostResolver } from './replicas/host-resolver.js';
import { ReplicaCallsHost } from './replicas/replica-calls.provider.js';
import { ReplicaDiscovery } from './replicas/replica-discovery.service.js';
import { ReplicaRouter } from './replicas/replica-router.service.js';
import { ResidencyService } from './residency/residency.service.js';
import { TgiCompletionsController } from './tgi/tgi-completions.controller.js';
import { TgiGenerationService } from './tgi/tgi-generation.service.js';
import { TgiController } from './tgi/tgi.controller.js';

export interface AppModuleOptions {
  config: GatewayConfig;
  registry: ModelRegistry;
  metrics: GatewayMetrics;
  /** Where each model's backend is found; by default TGI-protocol clients at the addresses the models get. */
  backends?: BackendDirectory;
  /** How `discover: dns` names are resolved; by default as the system resolves them (lookupAll). */
  resolveHost?: HostResolver;
}

@Module({})
export class AppModule {
  /** The config and the registry are read and validated before Nest starts, so a bad file fails with its message. */
  static forRoot({ config, registry, metrics, backends, resolveHost }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [
        GenerateController,
        ChatCompletionsController,
        CompletionsController,
        OpenAiModelsController,
        // Before ModelsController: its GET /models/:id is Sluice's own view; these are the per-model TGI routes.
        TgiController,
        TgiCompletionsController,
        ModelsController,
        HealthController,
        MetricsController,
        ConsoleController,
      ],
      providers: [
        // The validation and error path are the module's, so every app built from it answers as production does.
        { provide: APP_PIPE, useClass: GatewayValidationPipe },
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: ModelRegistry, useValue: registry },
        { provide: GatewayMetrics, useValue: metrics },
        MetricsReporter,
        {
          provide: BackendDirectory,
          useValue: backends ?? new BackendDirectory(backendFactory(config.healthTimeoutMs)),
        },
        ReplicaCallsHost,
        ReplicaRouter,
        { provide: HOST_RESOLVER, useValue: resolveHost ?? lookupAll },
        ReplicaDiscovery,
        DispatchQueueHost,
        dispatchQueueProvider,
        EngineSupervisor,
        ResidencyService,
        ReadinessMonitor,
        RateLimiterHost,
        rateLimiterProvider,
        RateLimitGate,
        ServingPath,
        GenerateService,
        ModelsService,
        ConsoleStateService,
        OpenAiGenerationService,
        OpenAiModelsService,
        TgiGenerationService,
      ],
    };
  }
}
