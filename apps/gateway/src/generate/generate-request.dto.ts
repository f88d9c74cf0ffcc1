import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { MAX_PROMPT_CHARS } from '../http/prompt-length.js';

const finite = { allowNaN: false, allowInfinity: false };

/** TGI's generation parameters, with the gateway's friendlier edges: temperature 0 means greedy, top_p 1 means off. */
export class GenerateParametersDto {
  @ApiPropertyOptional({
    minimum: 1,
    description:
      "Tokens to generate; at most the model's max_new_tokens ceiling. Default: the model's default_max_new_tokens.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_new_tokens?: number;

  @ApiPropertyOptional({ minimum: 0, description: '0 decodes greedily; > 0 samples.' })
  @IsOptional()
  @IsNumber(finite)
  @Min(0)
  @Max(100)
  temperature?: number;

  @ApiPropertyOptional({
    exclusiveMinimum: true,
    minimum: 0,
    maximum: 1,
    description: 'Nucleus sampling; 1 turns it off.',
  })
  @IsOptional()
  @IsNumber(finite)
  @Min(Number.MIN_VALUE)
  @Max(1)
  top_p?: number;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  top_k?: number;

  @ApiPropertyOptional({ exclusiveMinimum: true, minimum: 0, description: '1.0 means no penalty.' })
  @IsOptional()
  @IsNumber(finite)
  @Min(Number.MIN_VALUE)
  repetition_penalty?: number;

  @ApiPropertyOptional({ minimum: -2, maximum: 2 })
  @IsOptional()
  @IsNumber(finite)
  @Min(-2)
  @Max(2)
  frequency_penalty?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  do_sample?: boolean;

  @ApiPropertyOptional({ minimum: 0, description: 'Sampling seed: the same seed gives the same text.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  seed?: number;

  @ApiPropertyOptional({ type: [String], maxItems: 4 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(4)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(256, { each: true })
  stop?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  return_full_text?: boolean;

  @ApiPropertyOptional({ minimum: 1, description: 'Keep only the last N tokens of the input.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  truncate?: number;

  @ApiPropertyOptional({
    description:
      "TGI's details: a `details` object in the answer (every token with its logprob, seed, finish reason); a stream's events carry them as the backend sent them.",
  })
  @IsOptional()
  @IsBoolean()
  details?: boolean;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 5,
    description: "The N most likely tokens at each step (TGI's `top_tokens`).",
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  top_n_tokens?: number;

  @ApiPropertyOptional({
    description:
      "With `details`, the prompt's tokens and logprobs (`details.prefill`); refused with `stream: true`, as TGI refuses it.",
  })
  @IsOptional()
  @IsBoolean()
  decoder_input_details?: boolean;

  @ApiPropertyOptional({ enum: [1], description: 'Only 1: Sluice generates one sequence per request.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1, {
    message: 'parameters.best_of must be 1: Sluice generates one sequence per request (send 1 or leave it out)',
  })
  best_of?: number;
}

export const SCENARIOS = ['qa', 'chat', 'summarize', 'rewrite'] as const;

/** The body of POST /v1/generate: the seed's shape (model_id, inputs, scenario, parameters) plus stream. */
export class GenerateRequestDto {
  @ApiProperty({ example: 'qwen2', description: 'A model id or alias from GET /models.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  model_id!: string;

  @ApiProperty({ example: '光合作用的原理是什么？' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PROMPT_CHARS)
  inputs!: string;

  @ApiPropertyOptional({
    example: 'qa',
    description: `A label for metrics and scheduling; the seed uses ${SCENARIOS.join(', ')}.`,
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'scenario may contain only letters, digits, _ and -' })
  scenario?: string;

  @ApiPropertyOptional({ type: GenerateParametersDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GenerateParametersDto)
  parameters?: GenerateParametersDto;

  @ApiPropertyOptional({ default: false, description: 'Stream tokens as TGI-style server-sent events.' })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({
    minimum: 1,
    example: 5000,
    description:
      "This request's deadline in ms, queue wait included: past it the answer is 504 `timeout`. At most the model's total_ms (more is cut to it). Default: total_ms.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  timeout_ms?: number;
}
