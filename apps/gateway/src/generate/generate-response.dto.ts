import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { TgiDetails } from '#backends';
import { gatewayOverheadMs, type GenerateResult } from '../serving/serving-path.service.js';
import { TgiDetailsDto } from '../tgi/tgi-wire.dto.js';

export class UsageDto {
  @ApiProperty({ description: 'Prompt tokens, as the backend counted them.' }) input_tokens!: number;
  @ApiProperty({ description: 'Generated tokens, as the backend counted them.' }) output_tokens!: number;
}

export class GenerateResponseDto {
  @ApiProperty() generated_text!: string;
  @ApiProperty({ description: 'The canonical id of the model that answered (aliases resolve to it).' })
  model_id!: string;
  @ApiProperty({ enum: ['length', 'eos_token', 'stop_sequence'] }) finish_reason!: string;
  @ApiProperty({ type: UsageDto }) usage!: UsageDto;
  @ApiProperty({ description: 'Time in the gateway from request to answer, ms.' }) latency_ms!: number;
  @ApiProperty({ description: 'Time spent waiting for a slot of the model, ms.' }) queue_ms!: number;
  @ApiProperty({ description: 'Time from dispatch to the first token, ms.' }) time_to_first_token_ms!: number;
  @ApiProperty({
    description:
      "The gateway's own time: latency minus queue wait and the backend call, ms. Also the x-gateway-overhead-ms header (non-streamed answers).",
  })
  gateway_overhead_ms!: number;
  @ApiProperty({ description: 'Sampling seed used (null when greedy).', nullable: true, type: Number }) seed!:
    number | null;
  @ApiProperty({ description: 'Also in the x-request-id header.' }) request_id!: string;
  @ApiPropertyOptional({ type: TgiDetailsDto, description: "TGI's details, with `parameters.details: true`." })
  details?: TgiDetailsDto;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function toGenerateResponse(
  result: GenerateResult,
  requestId: string,
  elapsedMs: number,
  details?: TgiDetails,
): GenerateResponseDto {
  const { modelId, outcome, queuedMs } = result;
  return {
    generated_text: outcome.generatedText,
    model_id: modelId,
    finish_reason: outcome.finishReason,
    usage: { input_tokens: outcome.inputTokens, output_tokens: outcome.outputTokens },
    latency_ms: round(elapsedMs),
    queue_ms: round(queuedMs),
    time_to_first_token_ms: round(outcome.timings.firstTokenMs),
    gateway_overhead_ms: round(gatewayOverheadMs(result, elapsedMs)),
    seed: outcome.seed,
    request_id: requestId,
    ...(details ? { details } : {}),
  };
}
