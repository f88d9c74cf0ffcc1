import { ApiProperty } from '@nestjs/swagger';

/** What GET /models and GET /models/:id answer; ModelsService builds exactly these. */

export class ModelBackendDto {
  // The type names of the registry's backend union (BackendConfig); the one a replica was configured with.
  @ApiProperty({
    enum: ['tgi', 'openai', 'local', 'process'],
    description: 'TGI (or its protocol) outside, an OpenAI-protocol server outside (vLLM, llama-server, ...), or a local engine.',
  })
  type!: 'tgi' | 'openai' | 'local' | 'process';

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Base URL; a server the gateway runs has one while it listens (null once stopped or unloaded).',
  })
  address!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Process id of an engine the gateway started.' })
  pid!: number | null;
}

export class ModelMemoryDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Resident memory of an engine the gateway started.' })
  process_rss_bytes!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'GPU memory of that engine, where nvidia-smi runs.' })
  gpu_used_mb!: number | null;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      'Whether gpu_used_mb is above vram_budget_gb (the metric `model.<id>.over_budget`); null where nvidia-smi does not run or no engine of the gateway holds GPU memory.',
  })
  over_budget!: boolean | null;
}

/** Whether the model is loaded, and how long it stays so (config: load, keep_alive, min_residency). */
export class ModelResidencyDto {
  @ApiProperty({
    enum: ['always', 'on_demand'],
    description: 'always: loaded at start; on_demand: by its first request, unloaded when idle. Remote servers: always.',
  })
  load!: 'always' | 'on_demand';

  @ApiProperty({ description: 'Loaded (or loading): it holds its VRAM budget on its GPU.' }) resident!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When a request last used it.' })
  last_used!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Idle time before an unload, ms (on_demand only).' })
  keep_alive_ms!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Time after a load during which no other model may push it out, ms (on_demand only).',
  })
  min_residency_ms!: number | null;

  @ApiProperty({ description: 'Loads since the gateway started (the first load of a model loaded always counts).' })
  loads!: number;

  @ApiProperty({ description: 'Unloads since the gateway started (keep_alive, room for another model, admin).' })
  unloads!: number;
}

export class ModelLimitsDto {
  @ApiProperty() max_concurrent!: number;
  @ApiProperty() max_queued!: number;
  @ApiProperty({ description: 'A request predicted to wait longer for a slot is refused with 429 at once.' })
  max_queue_wait_ms!: number;
  @ApiProperty() max_new_tokens!: number;
}

export class ModelErrorDto {
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

/** One replica of a model: one backend (a local engine or a remote server) that its requests are spread over. */
export class ReplicaViewDto {
  @ApiProperty({
    description:
      "Its position in the model's replica list (replicas found in DNS: numbered as found, never reused); the `replica` label of its metrics.",
  })
  replica!: number;

  @ApiProperty({ type: ModelBackendDto }) backend!: ModelBackendDto;
  @ApiProperty({ enum: ['starting', 'loading', 'ready', 'unhealthy', 'failed', 'stopped'] }) state!: string;
  @ApiProperty({ description: 'Calls this gateway has outstanding on it now; routing picks the fewest.' })
  in_flight!: number;

  @ApiProperty({ description: 'Out of routing for failing calls in a row, until a health check after ejected_until.' })
  ejected!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true }) ejected_until!: string | null;
  @ApiProperty({ description: 'Times it was ejected since the gateway started.' }) ejections!: number;
  @ApiProperty() restarts!: number;
  @ApiProperty({ type: ModelErrorDto, nullable: true, description: 'Its latest failed health check or failed call.' })
  last_error!: ModelErrorDto | null;
}

export class ModelViewDto {
  @ApiProperty({ example: 'qwen2' }) id!: string;
  @ApiProperty({ type: [String] }) aliases!: string[];
  @ApiProperty({ type: ModelBackendDto }) backend!: ModelBackendDto;
  @ApiProperty({ example: 'gptq-int4' }) quantization!: string;
  @ApiProperty() vram_budget_gb!: number;
  @ApiProperty({ type: String, nullable: true, description: 'The declared GPU it runs on; null for CPU.' })
  gpu!: string | null;

  @ApiProperty({ type: ModelMemoryDto }) memory!: ModelMemoryDto;
  @ApiProperty({ enum: ['starting', 'loading', 'ready', 'unhealthy', 'failed', 'stopped'] }) state!: string;
  @ApiProperty({ format: 'date-time' }) state_since!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The latest cold start, ms.' }) cold_start_ms!:
    | number
    | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true }) ready_since!: string | null;
  @ApiProperty() restarts!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Null while the dispatch queue cannot be read.' })
  in_flight!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Null while the dispatch queue cannot be read.' })
  queued!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      "Admission tickets held: the running and queued requests that admission counts (with Redis, the live tickets over all replicas). Null while the dispatch queue cannot be read.",
  })
  admitted!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      "Admission's live estimate: completions per second at the model's concurrency. Null until one is known, or while the dispatch queue cannot be read.",
  })
  service_rate_per_s!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'What a request arriving now would be predicted to wait for a slot, ms; over max_queue_wait_ms it gets 429. Null while the dispatch queue cannot be read.',
  })
  predicted_wait_ms!: number | null;

  @ApiProperty({ type: ModelLimitsDto }) limits!: ModelLimitsDto;
  @ApiProperty({ type: ModelResidencyDto }) residency!: ModelResidencyDto;
  @ApiProperty({ type: ModelErrorDto, nullable: true }) last_error!: ModelErrorDto | null;
  @ApiProperty({
    type: [ReplicaViewDto],
    description: 'Every replica of the model (one for a model with a single backend); the model serves while any does.',
  })
  replicas!: ReplicaViewDto[];
}

export class GpuMeasurementDto {
  @ApiProperty() name!: string;
  @ApiProperty() used_mb!: number;
  @ApiProperty() total_mb!: number;
}

export class GpuViewDto {
  @ApiProperty() id!: string;
  @ApiProperty() memory_gb!: number;
  @ApiProperty({ description: 'The budgets of the models placed on it, summed.' }) vram_budget_gb!: number;
  @ApiProperty({ description: 'The budgets of the models loaded on it now, summed: never above memory_gb.' })
  budget_in_use_gb!: number;
  @ApiProperty({ type: GpuMeasurementDto, nullable: true, description: 'From nvidia-smi, where it runs.' })
  measured!: GpuMeasurementDto | null;
}

export class ModelListDto {
  @ApiProperty({ type: [ModelViewDto] }) models!: ModelViewDto[];
  @ApiProperty({ type: [GpuViewDto], description: 'The GPUs the registry declares.' }) gpus!: GpuViewDto[];
}

/** What a key without the admin scope sees of a model: what it is called, whether it serves, what it may use. */
export class ModelSummaryDto {
  @ApiProperty({ example: 'qwen2' }) id!: string;
  @ApiProperty({ type: [String] }) aliases!: string[];
  @ApiProperty({ enum: ['starting', 'loading', 'ready', 'unhealthy', 'failed', 'stopped'] }) state!: string;
  @ApiProperty() vram_budget_gb!: number;
}

export class ModelSummaryListDto {
  @ApiProperty({ type: [ModelSummaryDto], description: "The models in the API key's scope." })
  models!: ModelSummaryDto[];
}
