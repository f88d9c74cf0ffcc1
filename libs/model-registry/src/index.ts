export type {
  BackendConfig,
  DispatchConfig,
  DnsDiscovery,
  GpuConfig,
  LocalBackendConfig,
  LocalEngineSettings,
  ModelDescriptor,
  OpenAiBackendConfig,
  ProcessBackendConfig,
  RegistryConfig,
  Residency,
  StopSignal,
  SupervisedBackendConfig,
  ReplicaRouting,
  TgiBackendConfig,
  Timeouts,
} from './registry-config.js';
export {
  DEFAULT_REGISTRY_CONFIG_PATH,
  RESIDENCY_DEFAULTS,
  STOP_SIGNALS,
  discoveredUrl,
  isSupervised,
  replicasOf,
  residencyOf,
} from './registry-config.js';
export { modelStateOf } from './replica-follower.js';
export { RegistryConfigError, type ConfigProblem } from './registry-config-error.js';
export { parseRegistryConfig } from './parse-registry-config.js';
export { loadRegistryConfig } from './load-registry-config.js';
export { BUILTIN_MODEL_LIMITS, DISPATCH_DEFAULTS, LOCAL_ENGINE_DEFAULTS } from './registry-defaults.js';
export { IllegalModelTransitionError, type ModelState, type ModelStatus } from './model-state.js';
export { ModelEntry, type ModelChangeListener, type ModelEntryOptions } from './model-entry.js';
export { ModelRegistry, type ModelRegistryOptions } from './model-registry.js';
