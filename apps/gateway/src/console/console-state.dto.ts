import { ApiProperty } from '@nestjs/swagger';
import { GpuViewDto, ModelViewDto } from '../models/model-view.dto.js';

/** What GET /console/state answers; ConsoleStateService builds exactly these. */

export class PercentilesDto {
  @ApiProperty({ description: 'Samples behind the percentiles.' }) count!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'ms; null without samples.' }) p50!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'ms; null without samples.' }) p99!: number | null;
}

export class LastMinuteDto {
  @ApiProperty({ description: 'Answers finished in the last minute, whatever their outcome.' }) requests!: number;

  @ApiProperty({
    description:
      "`requests` per second: over the minute, or, when traffic began less than a minute ago, over the time since the window's first answer.",
  })
  requests_per_s!: number;

  @ApiProperty({ type: [Number], description: 'Answers finished in each of the last 60 seconds, oldest first.' })
  per_second!: number[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Answers that were not ok, by error type (or `cancelled`: the client left); only types seen.',
    example: { timeout: 2, overloaded: 5 },
  })
  errors!: Record<string, number>;

  @ApiProperty({ type: PercentilesDto, description: 'End to end in the gateway, successful answers.' })
  latency_ms!: PercentilesDto;

  @ApiProperty({
    type: PercentilesDto,
    description: "From dispatch to the backend's first token, successful answers.",
  })
  time_to_first_token_ms!: PercentilesDto;
}

export class StateChangeDto {
  @ApiProperty({ example: 'ready' }) from!: string;
  @ApiProperty({ example: 'unhealthy' }) to!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why, for a change to unhealthy or failed: the error the model recorded.',
  })
  reason!: string | null;
}

export class ConsoleModelDto extends ModelViewDto {
  @ApiProperty({ type: LastMinuteDto }) last_minute!: LastMinuteDto;
  @ApiProperty({
    type: [StateChangeDto],
    description: 'The latest state changes since the gateway started, oldest first.',
  })
  state_changes!: StateChangeDto[];
}

export class GpuModelDto {
  @ApiProperty() id!: string;
  @ApiProperty() vram_budget_gb!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Measured by nvidia-smi for an engine the gateway started.',
  })
  gpu_used_mb!: number | null;
}

export class ConsoleGpuDto extends GpuViewDto {
  @ApiProperty({ type: [GpuModelDto], description: 'The models placed on it.' }) models!: GpuModelDto[];
}

export class ConsoleGatewayDto {
  @ApiProperty({ description: 'Seconds since this gateway process started.' }) uptime_s!: number;
  @ApiProperty({
    enum: ['redis', 'in-process'],
    description:
      "The dispatch queue: with Redis, `in_flight`, `queued`, `admitted` and the service rate count every replica's jobs.",
  })
  dispatch_queue!: 'redis' | 'in-process';
  @ApiProperty({
    type: LastMinuteDto,
    description: 'Every generation request this replica answered, those naming no model it serves included.',
  })
  last_minute!: LastMinuteDto;
}

export class ConsoleStateDto {
  @ApiProperty({ format: 'date-time' }) generated_at!: string;
  @ApiProperty({ description: "The rolling window of every `last_minute`, seconds (this replica's answers)." })
  window_s!: number;
  @ApiProperty({ type: ConsoleGatewayDto }) gateway!: ConsoleGatewayDto;
  @ApiProperty({ type: [ConsoleModelDto], description: "GET /models's admin view of each model, and its last minute." })
  models!: ConsoleModelDto[];
  @ApiProperty({ type: [ConsoleGpuDto], description: 'The GPUs the registry declares.' }) gpus!: ConsoleGpuDto[];
}
