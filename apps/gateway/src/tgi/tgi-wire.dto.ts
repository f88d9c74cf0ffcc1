import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * TGI's wire shapes on the per-model routes, for the OpenAPI document only: bodies are checked by TGI's own rules
 * (tgi-request.ts), answers are what the backend sent. Names follow TGI's OpenAPI schemas.
 */

export class TgiParametersDto {
  @ApiPropertyOptional({ description: "Default: the model's default_max_new_tokens; at most its ceiling." })
  max_new_tokens?: number;
  @ApiPropertyOptional({ exclusiveMinimum: true, minimum: 0 }) temperature?: number;
  @ApiPropertyOptional({ exclusiveMinimum: true, minimum: 0, exclusiveMaximum: true, maximum: 1 }) top_p?: number;
  @ApiPropertyOptional({ minimum: 1 }) top_k?: number;
  @ApiPropertyOptional() repetition_penalty?: number;
  @ApiPropertyOptional({ minimum: -2, maximum: 2 }) frequency_penalty?: number;
  @ApiPropertyOptional() do_sample?: boolean;
  @ApiPropertyOptional({ minimum: 0 }) seed?: number;
  @ApiPropertyOptional({ type: [String], maxItems: 4 }) stop?: string[];
  @ApiPropertyOptional() return_full_text?: boolean;
  @ApiPropertyOptional({ minimum: 1 }) truncate?: number;
  @ApiPropertyOptional({ description: 'Answer with Details: every token with its logprob, seed, finish reason.' })
  details?: boolean;
  @ApiPropertyOptional({ minimum: 0, maximum: 5, description: 'The N most likely tokens at each step.' })
  top_n_tokens?: number;
  @ApiPropertyOptional({
    description: "With details, the prompt's tokens and logprobs (`prefill`); not when streaming.",
  })
  decoder_input_details?: boolean;
  @ApiPropertyOptional({ enum: [1], description: 'Only 1.' }) best_of?: number;
  @ApiPropertyOptional({ description: 'TGI\'s `{type: "json" | "json_schema", value}`: output constrained to JSON.' })
  grammar?: object;
}

export class TgiGenerateRequestDto {
  @ApiProperty({ example: 'The capital of France is' }) inputs!: string;
  @ApiPropertyOptional({ type: TgiParametersDto }) parameters?: TgiParametersDto;
}

export class TgiCompatGenerateRequestDto extends TgiGenerateRequestDto {
  @ApiPropertyOptional({ default: false, description: 'Answer a stream of TGI events instead of an array of one.' })
  stream?: boolean;
}

export class TgiTokenDto {
  @ApiProperty() id!: number;
  @ApiProperty() text!: string;
  @ApiProperty({ nullable: true, type: Number }) logprob!: number | null;
  @ApiProperty() special!: boolean;
}

export class TgiPrefillTokenDto {
  @ApiProperty() id!: number;
  @ApiProperty() text!: string;
  @ApiProperty({ nullable: true, type: Number }) logprob!: number | null;
}

export class TgiDetailsDto {
  @ApiProperty({ enum: ['length', 'eos_token', 'stop_sequence'] }) finish_reason!: string;
  @ApiProperty() generated_tokens!: number;
  @ApiProperty({ nullable: true, type: Number }) seed!: number | null;
  @ApiProperty({ type: [TgiPrefillTokenDto], description: 'The prompt tokens (decoder_input_details), else empty.' })
  prefill!: TgiPrefillTokenDto[];
  @ApiProperty({ type: [TgiTokenDto] }) tokens!: TgiTokenDto[];
  @ApiPropertyOptional({ type: 'array', items: { type: 'array', items: { $ref: '#/components/schemas/TgiTokenDto' } } })
  top_tokens?: TgiTokenDto[][];
}

export class TgiGenerateResponseDto {
  @ApiProperty() generated_text!: string;
  @ApiPropertyOptional({ type: TgiDetailsDto, description: 'With `details: true`.' }) details?: TgiDetailsDto;
}

/** TGI's ErrorResponse; the request id is in the x-request-id header. */
export class TgiErrorResponseDto {
  @ApiProperty() error!: string;
  @ApiProperty({
    description:
      'TGI\'s `validation`, `overloaded`, `generation`, or the taxonomy\'s `model_not_found`, `unavailable` (API.md, "TGI drop-in per model").',
  })
  error_type!: string;
}

export class TgiInfoDto {
  @ApiProperty() model_id!: string;
  @ApiProperty() max_concurrent_requests!: number;
  @ApiProperty() max_best_of!: number;
  @ApiProperty() max_stop_sequences!: number;
  @ApiProperty() max_input_tokens!: number;
  @ApiProperty() max_total_tokens!: number;
  @ApiProperty() validation_workers!: number;
  @ApiProperty() max_client_batch_size!: number;
  @ApiProperty() router!: string;
  @ApiProperty() version!: string;
}
